/* gpu_load.c - finding the CUDA backend (cuda/gpu_api.h) and counting GPUs through it.
 *
 * In a CUDA build the backend is the shared module libhpsweep_cuda.so, opened here on the first
 * call, never at program start; the test build hp_trainer_emul (HPSWEEP_GPU_EMUL) links its
 * table statically. Only CUDA builds compile this file. */
#include <stdlib.h>
#include <string.h>

#include "cuda/gpu_api.h"
#include "gpu_device.h"

#if defined(HPSWEEP_GPU_EMUL) && HPSWEEP_GPU_EMUL

const hp_gpu_api *hp_gpu_api_load(hp_err *err) {
    (void)err;
    return hp_gpu_api_get();
}

#else

#include <dlfcn.h>
#include <stdio.h>
#include <unistd.h>

static const hp_gpu_api *loaded; /* once found */
static int tried;
static hp_err why; /* why it was not, for every later caller */

/* dlopen path, or -1 with the reason appended to msg. */
static const hp_gpu_api *try_open(const char *path, char *msg, size_t len) {
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    size_t used = strlen(msg);
    if (!h) {
        const char *e = dlerror();
        snprintf(msg + used, len - used, "%s%s", used ? "; " : "", e ? e : path);
        return NULL;
    }
    const hp_gpu_api *(*get)(void) = NULL;
    void *sym = dlsym(h, "hp_gpu_api_get");
    memcpy(&get, &sym, sizeof get); /* POSIX: a function pointer from dlsym */
    const hp_gpu_api *a = get ? get() : NULL;
    if (!a || a->version != HP_GPU_API_VERSION || a->size != sizeof(hp_gpu_api)) {
        snprintf(msg + used, len - used, "%s%s: %s", used ? "; " : "", path,
                 !a ? "no hp_gpu_api_get: not an hpsweep CUDA module"
                    : "another version of the CUDA module: rebuild hpsweep and libhpsweep_cuda.so together");
        (void)dlclose(h);
        return NULL;
    }
    return a; /* kept open for the life of the process */
}

/* <dir of this executable>/../lib/libhpsweep_cuda.so (the installed layout), or "" */
static void installed_path(char *out, size_t len) {
    char exe[4096];
    out[0] = '\0';
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash) return;
    *slash = '\0';
    snprintf(out, len, "%s/../lib/libhpsweep_cuda.so", exe);
}

const hp_gpu_api *hp_gpu_api_load(hp_err *err) {
    if (!tried) {
        tried = 1;
        char msg[sizeof why.msg - 160] = "";
        const char *env = getenv("HPSWEEP_CUDA_MODULE");
        char inst[4200];
        installed_path(inst, sizeof inst);
        if (env && *env) {
            loaded = try_open(env, msg, sizeof msg);
        } else {
            if (inst[0] && access(inst, F_OK) == 0) loaded = try_open(inst, msg, sizeof msg);
#ifdef HPSWEEP_CUDA_MODULE_BUILD
            if (!loaded) loaded = try_open(HPSWEEP_CUDA_MODULE_BUILD, msg, sizeof msg);
#endif
        }
        if (!loaded)
            hp_errf(&why,
                    "cannot load the CUDA backend (%s): install hpsweep with its lib/libhpsweep_cuda.so and the CUDA "
                    "and cuDNN libraries, or set HPSWEEP_CUDA_MODULE to the module's path, or use device: cpu",
                    msg);
    }
    if (!loaded && err) *err = why;
    return loaded;
}

#endif

/* gpu_device.h: the GPUs the backend sees; 0 when it cannot be loaded. */
int hp_gpu_visible(void) {
    const hp_gpu_api *a = hp_gpu_api_load(NULL);
    return a ? a->device_count() : 0;
}
