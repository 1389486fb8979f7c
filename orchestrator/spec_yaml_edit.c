/* spec_yaml_edit.c - setting a value at a place in a loaded spec document (spec_yaml.h's
 * sy_set_path): what a trial's spec and the load-time checks of search.params build on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec_yaml.h"

/* The value of key (n bytes) in mapping node `map_id`, 0 if absent. */
static int map_get(sy_doc *d, int map_id, const char *key, size_t n) {
    yaml_node_t *m = sy_node(d, map_id);
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = sy_node(d, p->key);
        if (k && k->type == YAML_SCALAR_NODE && sy_slen(k) == n && memcmp(sy_sval(k), key, n) == 0) return p->value;
    }
    return 0;
}

/* The `name:` scalar of list item `item_id` (a mapping), NULL if it has none. */
static yaml_node_t *item_name(sy_doc *d, int item_id) {
    yaml_node_t *item = sy_node(d, item_id);
    yaml_node_t *v = item && item->type == YAML_MAPPING_NODE ? sy_node(d, map_get(d, item_id, "name", 4)) : NULL;
    return v && v->type == YAML_SCALAR_NODE ? v : NULL;
}

/* The item of sequence node `seq_id` with `name: <key>` (n bytes), 0 if none: a list step of a
 * path may name a layer instead of giving its index (model.layers.drop1.p). */
static int seq_named(sy_doc *d, int seq_id, const char *key, size_t n) {
    yaml_node_t *s = sy_node(d, seq_id);
    for (yaml_node_item_t *it = s->data.sequence.items.start; it < s->data.sequence.items.top; it++) {
        yaml_node_t *v = item_name(d, *it);
        if (v && sy_slen(v) == n && memcmp(sy_sval(v), key, n) == 0) return *it;
    }
    return 0;
}

/* The names the items of a sequence have, for a message: "names: a, b" or "no item has a name:". */
static void seq_names(sy_doc *d, int seq_id, char *out, size_t cap) {
    yaml_node_t *s = sy_node(d, seq_id);
    size_t used = (size_t)snprintf(out, cap, "names:");
    int any = 0;
    for (yaml_node_item_t *it = s->data.sequence.items.start; it < s->data.sequence.items.top && used < cap; it++) {
        yaml_node_t *v = item_name(d, *it);
        if (v) used += (size_t)snprintf(out + used, cap - used, "%s %.*s", any++ ? "," : "", (int)sy_slen(v), sy_sval(v));
    }
    if (!any) snprintf(out, cap, "no item has a name:");
}

static int add_scalar(sy_doc *d, const char *text, size_t n) {
    return yaml_document_add_scalar(&d->doc, NULL, (yaml_char_t *)text, (int)n, YAML_PLAIN_SCALAR_STYLE);
}

int sy_set_path(sy_doc *d, const char *path, const char *value) {
    yaml_node_t *root = yaml_document_get_root_node(&d->doc);
    if (!root) return hp_errf(d->err, "%s: %s: the spec is empty", d->path, path);
    int cur = (int)(root - d->doc.nodes.start) + 1;
    for (const char *seg = path;;) {
        size_t n = strcspn(seg, ".");
        int last = seg[n] == '\0';
        yaml_node_t *node = sy_node(d, cur);
        if (n == 0) return hp_errf(d->err, "%s: '%s' has an empty step; write keys and list indices joined by '.'", d->path, path);
        int child = 0;
        if (node->type == YAML_SEQUENCE_NODE) {
            char *end;
            char idx[24];
            snprintf(idx, sizeof idx, "%.*s", (int)(n < 23 ? n : 23), seg);
            long i = strtol(idx, &end, 10);
            ptrdiff_t count = node->data.sequence.items.top - node->data.sequence.items.start;
            int index = seg[0] >= '0' && seg[0] <= '9'; /* else a name: (a layer's) */
            if (!index && (child = seq_named(d, cur, seg, n)) != 0) {
                /* found by its name */
            } else if (!index) {
                char names[160];
                seq_names(d, cur, names, sizeof names);
                return hp_errf(d->err, "%s: %s: no item of the list '%.*s' has name: %.*s; give an item's index "
                               "(0 to %td) or its name (%s)", d->path, path,
                               (int)(seg - path > 0 ? seg - path - 1 : 0), path, (int)n, seg, count - 1, names);
            } else if (*end || end == idx || i < 0) {
                return hp_errf(d->err, "%s: %s: '%.*s' is not a list index; the step after '%.*s' is a list (0 to %td)",
                               d->path, path, (int)n, seg, (int)(seg - path > 0 ? seg - path - 1 : 0), path, count - 1);
            } else if (i >= count) {
                return hp_errf(d->err, "%s: %s: index %ld is out of range; the list '%.*s' has %td item%s (0 to %td)",
                               d->path, path, i, (int)(seg - path > 0 ? seg - path - 1 : 0), path, count,
                               count == 1 ? "" : "s", count - 1);
            } else {
                child = node->data.sequence.items.start[i];
            }
        } else if (node->type == YAML_MAPPING_NODE) {
            child = map_get(d, cur, seg, n);
            if (!child) { /* absent: add the key, with a mapping for the steps still to come */
                int k = add_scalar(d, seg, n);
                int v = last ? add_scalar(d, value, strlen(value))
                             : yaml_document_add_mapping(&d->doc, NULL, YAML_FLOW_MAPPING_STYLE);
                if (!k || !v || !yaml_document_append_mapping_pair(&d->doc, cur, k, v))
                    return hp_errf(d->err, "%s: out of memory setting %s", d->path, path);
                if (last) return 0;
                cur = v;
                seg += n + 1;
                continue;
            }
        } else {
            return hp_errf(d->err, "%s: %s: '%.*s' holds a single value, so it has no '%s'", d->path, path,
                           (int)(seg - path - 1), path, seg);
        }
        if (!last) {
            cur = child;
            seg += n + 1;
            continue;
        }
        yaml_node_t *leaf = sy_node(d, child);
        if (leaf->type != YAML_SCALAR_NODE)
            return hp_errf(d->err, "%s: %s holds %s, not a single value; name one of its keys", d->path, path,
                           leaf->type == YAML_MAPPING_NODE ? "a mapping" : "a list");
        size_t len = strlen(value);
        yaml_char_t *copy = malloc(len + 1);
        if (!copy) return hp_errf(d->err, "%s: out of memory setting %s", d->path, path);
        memcpy(copy, value, len + 1);
        free(leaf->data.scalar.value);
        leaf->data.scalar.value = copy;
        leaf->data.scalar.length = len;
        leaf->data.scalar.style = YAML_PLAIN_SCALAR_STYLE;
        return 0;
    }
}
