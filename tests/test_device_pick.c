/* test_device_pick.c - device choice (orchestrator/device_pick.c): the spec's device and node-local
 * rank to the CPU or an opened GPU, with or without a GPU.
 *
 * Without a visible GPU (every CPU-only build, and this machine): cpu and auto give the CPU;
 * cuda fails with a one-line message that names the key and says what to do, and leaves the
 * device NULL. With GPUs: cuda and auto open GPU local_rank % visible, with a name; the
 * description names it and the spec's cuda: options.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "device_pick.h"

static void test_names(void) {
    hp_device d = HP_DEVICE_CUDA;
    CHECK(hp_device_parse("auto", &d) == 0 && d == HP_DEVICE_AUTO, "parse auto: %d", (int)d);
    CHECK(hp_device_parse("cpu", &d) == 0 && d == HP_DEVICE_CPU, "parse cpu: %d", (int)d);
    CHECK(hp_device_parse("cuda", &d) == 0 && d == HP_DEVICE_CUDA, "parse cuda: %d", (int)d);
    d = HP_DEVICE_CPU;
    CHECK(hp_device_parse("gpu", &d) == -1 && d == HP_DEVICE_CPU, "'gpu' is refused, *out untouched");
    CHECK(hp_device_parse("CUDA", &d) == -1 && hp_device_parse("", &d) == -1, "names are exact");
    char buf[64] = "untouched";
    hp_device_describe(NULL, buf, sizeof buf);
    CHECK(strcmp(buf, "cpu") == 0, "the CPU's description: '%s'", buf);
    CHECK(hp_device_gpu_index(NULL) == -1, "the CPU's index: %d", hp_device_gpu_index(NULL));
    CHECK(strcmp(hp_device_label(NULL), "cpu") == 0, "the CPU's name: '%s'", hp_device_label(NULL));
}

static void test_cpu(void) {
    hp_err err = {{0}};
    hp_gpu_opts opts = {.deterministic = 1, .allow_tf32 = 0, .workspace_max = 0};
    hp_gpu_device *gpu = (hp_gpu_device *)&opts; /* must be overwritten */
    CHECK(hp_device_open(HP_DEVICE_CPU, &opts, 3, &gpu, &err) == 0 && gpu == NULL, "cpu: the CPU: %s", err.msg);
    gpu = (hp_gpu_device *)&opts;
    CHECK(hp_device_open(HP_DEVICE_CPU, &opts, -1, &gpu, &err) == -1 && gpu == NULL &&
              strstr(err.msg, "node-local rank -1 is negative"),
          "a negative local rank is refused: %s", err.msg);
    hp_device_close(NULL); /* harmless */
}

static void test_without_gpu(void) {
    hp_err err = {{0}};
    hp_gpu_opts opts = {.deterministic = 1, .allow_tf32 = 0, .workspace_max = 0};
    hp_gpu_device *gpu = (hp_gpu_device *)&opts;
    CHECK(hp_device_open(HP_DEVICE_AUTO, &opts, 0, &gpu, &err) == 0 && gpu == NULL, "auto without a GPU: the CPU: %s",
          err.msg);
    gpu = (hp_gpu_device *)&opts;
    int rc = hp_device_open(HP_DEVICE_CUDA, &opts, 0, &gpu, &err);
    printf("device: cuda without a GPU -> %s\n", err.msg);
    CHECK(rc == -1 && gpu == NULL, "cuda without a GPU fails (rc %d) and leaves the device NULL", rc);
    CHECK(strncmp(err.msg, "device: cuda: ", 14) == 0, "the message names the key: %s", err.msg);
    CHECK(strstr(err.msg, "device: cpu") != NULL, "the message says what to do (device: cpu): %s", err.msg);
    CHECK(strchr(err.msg, '\n') == NULL, "one line");
    if (!hp_gpu_built())
        CHECK(strstr(err.msg, "built without CUDA") && strstr(err.msg, "-DHPSWEEP_CUDA=ON"),
              "a CPU-only build says how to get a GPU build: %s", err.msg);
    else
        CHECK(strstr(err.msg, "no CUDA device is visible") != NULL, "a CUDA build names the cause: %s", err.msg);
}

static void test_with_gpus(int visible) {
    hp_err err = {{0}};
    hp_gpu_opts opts = {.deterministic = 1, .allow_tf32 = 0, .workspace_max = 0};
    for (int rank = 0; rank <= visible; rank++) { /* rank `visible` wraps to GPU 0 */
        hp_gpu_device *gpu = NULL;
        hp_device d = rank % 2 ? HP_DEVICE_AUTO : HP_DEVICE_CUDA;
        int rc = hp_device_open(d, &opts, rank, &gpu, &err);
        CHECK(rc == 0 && gpu != NULL, "%s on local rank %d: %s", hp_device_name(d), rank, err.msg);
        if (!gpu) continue;
        char buf[192];
        hp_device_describe(gpu, buf, sizeof buf);
        printf("local rank %d: %s\n", rank, buf);
        CHECK(hp_device_gpu_index(gpu) == rank % visible, "local rank %d gets GPU %d (got %d)", rank, rank % visible,
              hp_device_gpu_index(gpu));
        CHECK(hp_device_label(gpu)[0] != '\0' && strstr(buf, hp_device_label(gpu)) && strstr(buf, "deterministic") &&
                  strstr(buf, "no TF32"),
              "description '%s' names the GPU and the options", buf);
        hp_device_close(gpu);
    }
}

int main(void) {
    test_names();
    test_cpu();
    int visible = hp_gpu_visible();
    printf("CUDA in this build: %s; GPUs visible: %d\n", hp_gpu_built() ? "yes" : "no", visible);
    if (visible > 0) test_with_gpus(visible);
    else test_without_gpu();
    return hp_check_summary("test_device_pick");
}
