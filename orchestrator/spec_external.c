/* spec_external.c - the trainer: section: an external training program instead of the built-in
 * trainer (docs/external.md, "The spec"), and what such a spec may not have. The program's
 * existence and its placeholders are checked when a sweep starts (trainer/external.h's
 * hp_ext_check), on the machine that runs it. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "spec_parts.h"

static int parse_command(sy_doc *d, yaml_node_t *n, const char *where, int *argc,
                         char argv[HP_EXT_MAX_ARGS][HP_EXT_ARG_LEN]) {
    yaml_node_item_t *it;
    int count;
    if (n->type == YAML_SCALAR_NODE)
        return sy_fail(d, n->start_mark, "%s: give the program and its arguments as a list, e.g. [python3, train.py, "
                       "--lr, \"{lr}\"] (no shell is used; for one, write [sh, -c, \"...\"])", where);
    if (sy_list(d, n, where, 1, HP_EXT_MAX_ARGS, "words", &it, &count)) return -1;
    for (int k = 0; k < count; k++) {
        char path[96];
        snprintf(path, sizeof path, "%s[%d]", where, k);
        sy_field f = {.key = "word", .kind = SY_STR, .dst = argv[k], .cap = HP_EXT_ARG_LEN};
        if (sy_read_value(d, &f, sy_node(d, it[k]), path)) return -1;
    }
    *argc = count;
    return 0;
}

int spec_parse_external(sy_doc *d, yaml_node_t *n, hp_external_spec *e) {
    yaml_node_t *command = NULL, *test = NULL;
    int maximize = 1;
    snprintf(e->objective, sizeof e->objective, "val_acc");
    e->grace = 10;
    e->trials_per_gpu = 1;
    sy_field f[] = {
        F_NODE("command", &command, SY_REQUIRED),
        F_NODE("test", &test, 0),
        F_STR("objective", e->objective),
        F_BOOL("maximize", &maximize),
        F_NUM("epoch_timeout", &e->epoch_timeout, 0, 1e9, 0),
        F_NUM("grace", &e->grace, 0, 3600, SY_LO_OPEN),
        F_STR("workdir", e->workdir),
        F_BOOL("chdir", &e->chdir),
        F_INT("trials_per_gpu", &e->trials_per_gpu, 1, 16),
    };
    if (sy_read_map(d, n, "trainer", f, NELEM(f))) return -1;
    e->enabled = 1;
    if (parse_command(d, command, "trainer.command", &e->argc, e->argv)) return -1;
    if (test && parse_command(d, test, "trainer.test", &e->test_argc, e->test_argv)) return -1;
    if (!f[3].seen && strcmp(e->objective, "val_acc") != 0)
        return sy_fail(d, f[2].mark, "trainer.objective: '%s' needs maximize: true (higher is better) or false (lower "
                       "is better); only val_acc has a default", e->objective);
    e->maximize = maximize ? 1 : -1;
    return 0;
}

int spec_check_external(sy_doc *d, yaml_node_t *root, yaml_node_t *train) {
    static const char *const built_in[] = {"model", "optimizer", "data", "cuda"};
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
        yaml_node_t *k = sy_node(d, p->key);
        if (!k || k->type != YAML_SCALAR_NODE) continue;
        for (int i = 0; i < NELEM(built_in); i++)
            if (k->data.scalar.length == strlen(built_in[i]) &&
                !memcmp(k->data.scalar.value, built_in[i], k->data.scalar.length))
                return sy_fail(d, k->start_mark, "%s: does not apply with a trainer: section (your program has its own "
                               "model, optimizer and data); remove it, or remove trainer: to use the built-in trainer",
                               built_in[i]);
    }
    if (!train) return 0;
    /* train: only the keys that concern hpsweep's side of an external trial */
    for (yaml_node_pair_t *p = train->data.mapping.pairs.start; p < train->data.mapping.pairs.top; p++) {
        yaml_node_t *k = sy_node(d, p->key);
        if (!k || k->type != YAML_SCALAR_NODE) continue;
        const char *key = (const char *)k->data.scalar.value;
        if (!strcmp(key, "epochs") || !strcmp(key, "diverge_factor")) continue;
        return sy_fail(d, k->start_mark, "train.%s: does not apply with a trainer: section (your program trains); "
                       "an external sweep takes train.epochs and train.diverge_factor only", key);
    }
    return 0;
}
