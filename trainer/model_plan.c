/* model_plan.c - see model_plan.h: a layer list validated into ops with the shape of every
 * tensor, the state-vector layout (parameters, then buffers) and the sizes of every arena. */
#include "model_plan.h"

#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "cpu_threads.h"
#include "cpu/conv.h" /* hp_conv_work_size */

/* Largest width of one tensor dimension: GEMM sizes are C ints, and 2^24 features is far
 * beyond any model this trainer is for. */
#define HP_MAX_WIDTH (1 << 24)
/* Most threads that get their own conv column buffer. */
#define HP_MAX_SLOTS 64

/* "model layer 3 (dense, spec line 12)" or "model layer 3 (dense)" when the line is unknown. */
static const char *layer_where(const hp_model_spec *spec, int i, char *buf, size_t len) {
    const hp_layer_spec *l = &spec->layers[i];
    if (l->line > 0)
        snprintf(buf, len, "model layer %d (%s, spec line %d)", i, hp_layer_type_name(l->type), l->line);
    else
        snprintf(buf, len, "model layer %d (%s)", i, hp_layer_type_name(l->type));
    return buf;
}

/* "[32, 14, 14]" for images, "[3136]" for flat tensors. */
static const char *shape_str(hp_shape s, char *buf, size_t len) {
    if (s.flat)
        snprintf(buf, len, "[%d]", s.c);
    else
        snprintf(buf, len, "[%d, %d, %d]", s.c, s.h, s.w);
    return buf;
}

static int64_t shape_n(hp_shape s) { return (int64_t)s.c * s.h * s.w; }

/* The state of a build in progress. */
typedef struct builder {
    const hp_model_spec *spec;
    hp_plan *p;
    int64_t off;          /* next parameter offset */
    int64_t act, idx, mask, dskip, dbuf, work;
    int count[HP_LAYER_COUNT_]; /* layers of each type so far, for tensor names */
    char where[96];
    /* The walk over the layers (hp_plan_build's loop): */
    hp_shape cur, input;          /* the shape the next layer receives; the model input's */
    int cur_op;                   /* the op producing cur; -1: the model input */
    int is_src[HP_MAX_LAYERS];    /* layers whose output an add reads later (no fusion, no in-place) */
    int input_is_src;             /* an add reads the model input */
    int next_relu;                /* the next layer is a ReLU this op takes in */
    int pool_relu;                /* a ReLU waits to run after the next max pool */
    int bn_ops[HP_MAX_LAYERS], nbn; /* batch-norm ops, for their buffers after the parameters */
} builder;

static hp_tensor_info *add_tensor(builder *b, hp_layer_type type, const char *what, int ndim, const int64_t *shape,
                                  int64_t offset, int is_buffer) {
    hp_tensor_info *t = &b->p->tensors[b->p->ntensors++];
    snprintf(t->name, sizeof t->name, "%s%d.%s", hp_layer_type_name(type), b->count[type], what);
    t->ndim = ndim;
    t->size = 1;
    for (int d = 0; d < ndim; d++) t->shape[d] = shape[d], t->size *= shape[d];
    t->offset = offset;
    t->is_buffer = is_buffer;
    return t;
}

/* A parameter tensor at the next offset; returns its offset. */
static int64_t add_param(builder *b, hp_layer_type type, const char *what, int ndim, const int64_t *shape) {
    hp_tensor_info *t = add_tensor(b, type, what, ndim, shape, b->off, 0);
    b->off += t->size;
    return t->offset;
}

/* Does the layer have a bias? HP_BIAS_OFF is the only "no". */
static int has_bias(const hp_layer_spec *l) { return l->bias != HP_BIAS_OFF; }

/* Checks of a dense or conv layer's shared fields. */
static int check_weights(builder *b, int i, hp_err *err) {
    const hp_layer_spec *l = &b->spec->layers[i];
    if ((unsigned)l->init >= HP_INIT_COUNT_)
        return hp_errf(err, "%s: unknown initialisation %d", b->where, (int)l->init);
    if (l->bias < HP_BIAS_OFF || l->bias > HP_BIAS_ON)
        return hp_errf(err, "%s: bias %d is invalid; use 1 (a bias, the default) or -1 (none)", b->where, l->bias);
    return 0;
}

static int need_images(builder *b, hp_shape in, hp_err *err) {
    char s[48];
    if (in.flat)
        return hp_errf(err,
                       "%s: needs an image input [C, H, W] but receives the flat %s output of a dense or "
                       "flatten layer; move it before the flatten/dense layers",
                       b->where, shape_str(in, s, sizeof s));
    return 0;
}

/* Validate one window (conv or pool) against the input it receives. */
static int check_window(builder *b, hp_shape in, int k, int stride, int pad, int pool, hp_err *err) {
    char s[48];
    if (k <= 0 || k > HP_MAX_WIDTH) return hp_errf(err, "%s: kernel %d is invalid; it must be >= 1", b->where, k);
    if (stride < 0 || stride > HP_MAX_WIDTH)
        return hp_errf(err, "%s: stride %d is invalid; it must be >= 1 (0: the default)", b->where, stride);
    if (pad < 0 || pad > HP_MAX_WIDTH)
        return hp_errf(err, "%s: padding %d is invalid; it must be >= 0", b->where, pad);
    if (pool && pad > k / 2)
        return hp_errf(err, "%s: padding %d is more than half the kernel %d; pooling needs padding <= kernel/2 "
                            "(as PyTorch), so that every window holds an input value",
                       b->where, pad, k);
    if ((int64_t)in.h + 2 * pad < k || (int64_t)in.w + 2 * pad < k)
        return hp_errf(err,
                       "%s: kernel %d is larger than the padded input: it receives %s, %dx%d with padding %d; "
                       "expected height and width + 2*padding >= %d (use a smaller kernel, more padding, "
                       "or fewer downsampling layers before it)",
                       b->where, k, shape_str(in, s, sizeof s), in.h + 2 * pad, in.w + 2 * pad, pad, k);
    return 0;
}

static hp_plan_op *new_op(builder *b, hp_layer_type type, int layer, hp_shape in) {
    hp_plan_op *op = &b->p->ops[b->p->nops++];
    memset(op, 0, sizeof *op);
    op->type = type;
    op->layer = layer;
    op->in = in;
    op->in_n = shape_n(in);
    op->b_off = op->rm_off = op->rv_off = op->act_off = op->aux_off = op->idx_off = op->dskip_off = -1;
    return op;
}

/* Output shape set: reserve the op's arenas. */
static int finish_op(builder *b, hp_plan_op *op, int src_op, int is_src, hp_err *err) {
    hp_plan *p = b->p;
    char s[48];
    op->out_n = shape_n(op->out);
    int64_t n = (int64_t)p->max_batch * op->out_n;
    if (op->out_n > HP_MAX_WIDTH || n > INT_MAX)
        return hp_errf(err,
                       "%s: its output %s is %lld values for a batch of %d; at most %d fit (use a smaller "
                       "batch or a narrower layer)",
                       b->where, shape_str(op->out, s, sizeof s), (long long)n, p->max_batch, INT_MAX);
    if (op->alias)
        op->act_off = -1;
    else if (op->in_place)
        op->act_off = p->ops[src_op].act_off;
    else
        op->act_off = b->act, b->act += n;
    if (is_src) op->dskip_off = b->dskip, b->dskip += n;
    int64_t widest = (int64_t)p->max_batch * (op->in_n > op->out_n ? op->in_n : op->out_n);
    if (widest > b->dbuf) b->dbuf = widest;
    return 0;
}

/* Layer i is a ReLU that can run after the max pool that follows it. */
static int relu_into_pool(const hp_model_spec *spec, int i, const int *is_src) {
    return i < spec->nlayers && spec->layers[i].type == HP_LAYER_RELU && !is_src[i] && i + 1 < spec->nlayers &&
           spec->layers[i + 1].type == HP_LAYER_MAXPOOL;
}

/* ---- one function per layer kind: checks the layer against b->cur, adds its op (and
 * parameters, arenas), returns it; NULL with err set when the layer is invalid. -------------- */

static hp_plan_op *plan_dense(builder *b, int i, hp_err *err) {
    const hp_layer_spec *l = &b->spec->layers[i];
    if (l->units <= 0 || l->units > HP_MAX_WIDTH)
        return hp_errf(err, "%s: units %d is invalid; it must be in [1, %d]", b->where, l->units, HP_MAX_WIDTH),
               NULL;
    if (check_weights(b, i, err) != 0) return NULL;
    if (!b->cur.flat) { // implicit flatten to PyTorch's [B, c*h*w] order
        hp_plan_op *fl = new_op(b, HP_LAYER_FLATTEN, i, b->cur);
        fl->out = (hp_shape){b->cur.c * b->cur.h * b->cur.w, 1, 1, 1};
        fl->alias = b->cur.c == 1 || b->cur_op < 0;
        if (finish_op(b, fl, b->cur_op, 0, err) != 0) return NULL;
        b->cur = fl->out, b->cur_op = b->p->nops - 1;
    }
    hp_plan_op *op = new_op(b, HP_LAYER_DENSE, i, b->cur);
    op->out = (hp_shape){l->units, 1, 1, 1};
    op->relu = b->next_relu && !b->is_src[i];
    int64_t ws[2] = {l->units, op->in_n}, bs[1] = {l->units};
    op->w_off = add_param(b, HP_LAYER_DENSE, "weight", 2, ws);
    if (has_bias(l)) op->b_off = add_param(b, HP_LAYER_DENSE, "bias", 1, bs);
    return op;
}

static hp_plan_op *plan_conv(builder *b, int i, hp_err *err) {
    const hp_layer_spec *l = &b->spec->layers[i];
    hp_shape cur = b->cur;
    if (need_images(b, cur, err) != 0 || check_weights(b, i, err) != 0) return NULL;
    if (l->filters <= 0 || l->filters > HP_MAX_WIDTH)
        return hp_errf(err, "%s: filters %d is invalid; it must be in [1, %d]", b->where, l->filters, HP_MAX_WIDTH),
               NULL;
    int stride = l->stride ? l->stride : 1;
    if (check_window(b, cur, l->kernel, l->stride, l->padding, 0, err) != 0) return NULL;
    int64_t ckk = (int64_t)cur.c * l->kernel * l->kernel;
    if (ckk * l->filters > INT_MAX || ckk * l->filters > HP_MAX_WIDTH * 16LL)
        return hp_errf(err, "%s: a weight of %d x %lld values is too large", b->where, l->filters, (long long)ckk),
               NULL;
    hp_plan_op *op = new_op(b, HP_LAYER_CONV, i, cur);
    hp_conv_geom_make(&op->conv, cur.c, cur.h, cur.w, l->filters, l->kernel, stride, l->padding);
    op->out = (hp_shape){l->filters, op->conv.Ho, op->conv.Wo, 0};
    int64_t ws[4] = {l->filters, cur.c, l->kernel, l->kernel}, bs[1] = {l->filters};
    op->w_off = add_param(b, HP_LAYER_CONV, "weight", 4, ws);
    if (has_bias(l)) op->b_off = add_param(b, HP_LAYER_CONV, "bias", 1, bs);
    int64_t wsz = hp_conv_work_size(&op->conv, b->p->max_batch, b->p->nslots);
    if (wsz > b->work) b->work = wsz;
    return op;
}

static hp_plan_op *plan_batchnorm(builder *b, int i, hp_err *err) {
    const hp_layer_spec *l = &b->spec->layers[i];
    hp_plan *plan = b->p;
    if (l->momentum < 0 || l->momentum > 1 || isnan(l->momentum))
        return hp_errf(err, "%s: momentum %g is invalid; it must be in (0, 1] (0: the default, 0.1)", b->where,
                       l->momentum),
               NULL;
    if (l->eps < 0 || !isfinite(l->eps))
        return hp_errf(err, "%s: eps %g is invalid; it must be > 0 (0: the default, 1e-5)", b->where, l->eps), NULL;
    hp_plan_op *op = new_op(b, HP_LAYER_BATCHNORM, i, b->cur);
    op->out = b->cur;
    op->momentum = l->momentum > 0 ? l->momentum : 0.1;
    op->eps = l->eps > 0 ? l->eps : 1e-5;
    op->relu = b->next_relu && !b->is_src[i];
    // Over a conv output that nothing else reads: normalise in place.
    op->in_place = b->cur_op >= 0 && plan->ops[b->cur_op].type == HP_LAYER_CONV &&
                   !b->is_src[plan->ops[b->cur_op].layer];
    int64_t cs[1] = {b->cur.c};
    op->w_off = add_param(b, HP_LAYER_BATCHNORM, "weight", 1, cs);
    op->b_off = add_param(b, HP_LAYER_BATCHNORM, "bias", 1, cs);
    op->aux_off = b->act;
    b->act += (int64_t)plan->max_batch * op->in_n + 2 * (int64_t)b->cur.c;
    b->bn_ops[b->nbn++] = plan->nops - 1;
    return op;
}

static hp_plan_op *plan_pool(builder *b, int i, hp_err *err) {
    const hp_layer_spec *l = &b->spec->layers[i];
    hp_shape cur = b->cur;
    int stride = l->stride ? l->stride : l->kernel;
    if (need_images(b, cur, err) != 0 || check_window(b, cur, l->kernel, l->stride, l->padding, 1, err) != 0)
        return NULL;
    hp_plan_op *op = new_op(b, l->type, i, cur);
    hp_pool_geom_make(&op->pool, cur.h, cur.w, l->kernel, stride, l->padding);
    op->out = (hp_shape){cur.c, op->pool.Ho, op->pool.Wo, 0};
    if (l->type == HP_LAYER_MAXPOOL) {
        op->relu = b->pool_relu;
        b->pool_relu = 0;
        op->idx_off = b->idx;
        b->idx += (int64_t)b->p->max_batch * cur.c * op->pool.Ho * op->pool.Wo;
    }
    return op;
}

static hp_plan_op *plan_globalavgpool(builder *b, int i, hp_err *err) {
    if (need_images(b, b->cur, err) != 0) return NULL;
    hp_plan_op *op = new_op(b, HP_LAYER_GLOBALAVGPOOL, i, b->cur);
    op->out = (hp_shape){b->cur.c, 1, 1, 0};
    return op;
}

static hp_plan_op *plan_dropout(builder *b, int i, hp_err *err) {
    const hp_layer_spec *l = &b->spec->layers[i];
    if (!(l->p >= 0 && l->p < 1))
        return hp_errf(err, "%s: p %g is invalid; the dropout probability must be in [0, 1)", b->where, l->p), NULL;
    hp_plan_op *op = new_op(b, HP_LAYER_DROPOUT, i, b->cur);
    op->out = b->cur;
    op->p = l->p;
    op->idx_off = b->mask;
    b->mask += (int64_t)b->p->max_batch * op->in_n;
    return op;
}

static hp_plan_op *plan_flatten(builder *b, int i, hp_err *err) {
    (void)err;
    hp_shape cur = b->cur;
    hp_plan_op *op = new_op(b, HP_LAYER_FLATTEN, i, cur);
    op->out = (hp_shape){cur.c * cur.h * cur.w, 1, 1, 1};
    op->alias = cur.flat || cur.c == 1 || b->cur_op < 0;
    return op;
}

static hp_plan_op *plan_add(builder *b, int i, hp_err *err) {
    const hp_layer_spec *l = &b->spec->layers[i];
    hp_plan *plan = b->p;
    hp_shape cur = b->cur;
    int fo = l->from >= 0 ? plan->layer_op[l->from] : -1;
    if (l->from >= 0 && fo < 0) // cannot happen: no fusion consumes a layer that an add reads
        return hp_errf(err, "%s: internal error: the output of layer %d was not kept", b->where, l->from), NULL;
    hp_shape fs = l->from >= 0 ? plan->ops[fo].out : b->input;
    if (fs.c != cur.c || fs.h != cur.h || fs.w != cur.w || fs.flat != cur.flat) {
        char fw[96], s1[48], s2[48];
        if (l->from >= 0)
            layer_where(b->spec, l->from, fw, sizeof fw);
        else
            snprintf(fw, sizeof fw, "the model input");
        return hp_errf(err, "%s: receives %s but adds the output of %s, %s; the shapes must match (from: %d)",
                       b->where, shape_str(cur, s1, sizeof s1), fw, shape_str(fs, s2, sizeof s2), l->from),
               NULL;
    }
    hp_plan_op *op = new_op(b, HP_LAYER_ADD, i, cur);
    op->out = cur;
    op->from = fo;
    return op;
}

/* relu, leaky_relu, elu, gelu, tanh, sigmoid */
static hp_plan_op *plan_activation(builder *b, int i, hp_err *err) {
    const hp_layer_spec *l = &b->spec->layers[i];
    if (l->type == HP_LAYER_LEAKY_RELU && (l->slope < 0 || !isfinite(l->slope)))
        return hp_errf(err, "%s: slope %g is invalid; it must be >= 0 (0: the default, 0.01)", b->where, l->slope),
               NULL;
    if (l->type == HP_LAYER_ELU && (l->alpha < 0 || !isfinite(l->alpha)))
        return hp_errf(err, "%s: alpha %g is invalid; it must be > 0 (0: the default, 1)", b->where, l->alpha),
               NULL;
    hp_plan_op *op = new_op(b, l->type, i, b->cur);
    op->out = b->cur;
    op->param = l->type == HP_LAYER_LEAKY_RELU ? (l->slope > 0 ? l->slope : 0.01) : (l->alpha > 0 ? l->alpha : 1.0);
    return op;
}

typedef hp_plan_op *(*layer_planner)(builder *b, int i, hp_err *err);

/* The planner of each layer type; NULL: not a layer type. */
static layer_planner planner_of(hp_layer_type t) {
    switch (t) {
    case HP_LAYER_DENSE: return plan_dense;
    case HP_LAYER_CONV: return plan_conv;
    case HP_LAYER_BATCHNORM: return plan_batchnorm;
    case HP_LAYER_MAXPOOL:
    case HP_LAYER_AVGPOOL: return plan_pool;
    case HP_LAYER_GLOBALAVGPOOL: return plan_globalavgpool;
    case HP_LAYER_DROPOUT: return plan_dropout;
    case HP_LAYER_FLATTEN: return plan_flatten;
    case HP_LAYER_ADD: return plan_add;
    case HP_LAYER_RELU:
    case HP_LAYER_LEAKY_RELU:
    case HP_LAYER_ELU:
    case HP_LAYER_GELU:
    case HP_LAYER_TANH:
    case HP_LAYER_SIGMOID: return plan_activation;
    default: return NULL;
    }
}

/* ---- the build ------------------------------------------------------------------------------ */

static int check_inputs(const hp_model_spec *spec, int c, int h, int w, int nclasses, int max_batch, hp_err *err) {
    if (c <= 0 || h <= 0 || w <= 0 || (int64_t)c * h * w > HP_MAX_WIDTH)
        return hp_errf(err,
                       "model input shape %dx%dx%d is invalid: each dimension must be > 0 and "
                       "c*h*w at most %d",
                       c, h, w, HP_MAX_WIDTH);
    if (nclasses < 2 || nclasses > HP_MAX_WIDTH)
        return hp_errf(err, "model: nclasses %d is invalid; a classifier needs at least 2 classes", nclasses);
    if (max_batch <= 0 || max_batch > HP_MAX_WIDTH)
        return hp_errf(err, "model: batch size %d is invalid; it must be in [1, %d]", max_batch, HP_MAX_WIDTH);
    if ((int64_t)max_batch * c * h * w > INT_MAX) // matrix products index a batch with C ints
        return hp_errf(err, "model: a batch of %d inputs of %dx%dx%d is %lld values; at most %d fit (use a smaller "
                            "batch)",
                       max_batch, c, h, w, (long long)max_batch * c * h * w, INT_MAX);
    if (spec->nlayers <= 0 || spec->nlayers > HP_MAX_LAYERS)
        return hp_errf(err,
                       "model: %d layers given; a model needs 1 to %d layers ending in a dense "
                       "layer of %d units",
                       spec->nlayers, HP_MAX_LAYERS, nclasses);
    return 0;
}

/* Which layers an add reads later: their outputs must survive (no fusion, no in-place). */
static int mark_sources(builder *b, hp_err *err) {
    const hp_model_spec *spec = b->spec;
    for (int i = 0; i < spec->nlayers; i++) {
        const hp_layer_spec *l = &spec->layers[i];
        if (l->type != HP_LAYER_ADD) continue;
        if (l->from < -1 || l->from >= i)
            return hp_errf(err,
                           "%s: from %d is invalid; it must name an earlier layer (0 to %d) or be -1 for "
                           "the model input",
                           layer_where(spec, i, b->where, sizeof b->where), l->from, i - 1);
        if (l->from >= 0)
            b->is_src[l->from] = 1;
        else
            b->input_is_src = 1;
    }
    return 0;
}

/* Plan layer i (and the ReLU it takes in); returns the index of the last layer it covered, or -1. */
static int plan_layer(builder *b, int i, hp_err *err) {
    const hp_model_spec *spec = b->spec;
    hp_plan *plan = b->p;
    const hp_layer_spec *l = &spec->layers[i];
    layer_where(spec, i, b->where, sizeof b->where);
    // A ReLU before a max pool runs on the pool's output instead (max commutes with ReLU, and
    // the pooled tensor is k*k times smaller); unless an add reads the ReLU's output.
    if (relu_into_pool(spec, i, b->is_src)) {
        b->pool_relu = 1;
        return i;
    }
    b->next_relu = i + 1 < spec->nlayers && spec->layers[i + 1].type == HP_LAYER_RELU &&
                   !relu_into_pool(spec, i + 1, b->is_src);
    layer_planner planner = planner_of(l->type);
    if (!planner)
        return hp_errf(err,
                       "model layer %d: unknown layer type %d; valid types: dense, relu, conv, batchnorm, "
                       "maxpool, avgpool, globalavgpool, dropout, flatten, add, leaky_relu, elu, gelu, "
                       "tanh, sigmoid",
                       i, (int)l->type);
    hp_plan_op *op = planner(b, i, err);
    if (!op) return -1;
    // the spec layer whose output this op produces (a dense or batch norm with its ReLU)
    int last = i + (op->relu && op->type != HP_LAYER_MAXPOOL ? 1 : 0);
    if (finish_op(b, op, b->cur_op, b->is_src[last], err) != 0) return -1;
    if (op->w_off >= 0 && plan->first_param_op < 0) plan->first_param_op = plan->nops - 1;
    if (op->type == HP_LAYER_DENSE || op->type == HP_LAYER_CONV || op->type == HP_LAYER_BATCHNORM)
        b->count[op->type]++;
    plan->layer_op[last] = plan->nops - 1;
    b->cur = op->out;
    b->cur_op = plan->nops - 1;
    return last;
}

/* The model ends in a dense layer of nclasses units. */
static int check_logits(builder *b, hp_err *err) {
    const hp_model_spec *spec = b->spec;
    int lastl = spec->nlayers - 1, nclasses = b->p->nclasses;
    layer_where(spec, lastl, b->where, sizeof b->where);
    if (spec->layers[lastl].type != HP_LAYER_DENSE)
        return hp_errf(err,
                       "%s: a model must end with a dense layer producing the %d logits (the loss "
                       "applies the softmax); remove this layer or add 'dense %d' after it",
                       b->where, nclasses, nclasses);
    if (b->cur.c != nclasses)
        return hp_errf(err,
                       "%s: the last dense layer has %d units but the data has %d classes; set its "
                       "units to %d",
                       b->where, b->cur.c, nclasses, nclasses);
    return 0;
}

/* Buffers after every parameter: the running statistics of each batch norm, in layer order;
 * then the sizes of the arenas. */
static void finish_plan(builder *b) {
    hp_plan *plan = b->p;
    plan->nparams = b->off;
    int bnk = 0;
    for (int k = 0; k < b->nbn; k++) {
        hp_plan_op *op = &plan->ops[b->bn_ops[k]];
        int64_t cs[1] = {op->in.c};
        b->count[HP_LAYER_BATCHNORM] = bnk++;
        op->rm_off = add_tensor(b, HP_LAYER_BATCHNORM, "running_mean", 1, cs, b->off, 1)->offset;
        b->off += op->in.c;
        op->rv_off = add_tensor(b, HP_LAYER_BATCHNORM, "running_var", 1, cs, b->off, 1)->offset;
        b->off += op->in.c;
    }
    plan->nstate = b->off;
    // The input is read as images by the first op unless that op flattens it, and by an add.
    plan->input_cnhw = plan->c > 1 && (plan->ops[0].type != HP_LAYER_FLATTEN || b->input_is_src);
    plan->act_size = b->act;
    plan->idx_size = b->idx;
    plan->mask_size = b->mask;
    plan->dskip_size = b->dskip;
    plan->dbuf_size = b->dbuf;
    plan->work_size = b->work;
}

int hp_plan_build(const hp_model_spec *spec, int c, int h, int w, int nclasses, int max_batch, hp_plan *plan,
                  hp_err *err) {
    memset(plan, 0, sizeof *plan);
    if (check_inputs(spec, c, h, w, nclasses, max_batch, err) != 0) return -1;
    plan->spec = *spec;
    plan->c = c, plan->h = h, plan->w = w;
    plan->in_dim = c * h * w;
    plan->nclasses = nclasses;
    plan->max_batch = max_batch;
    int slots = omp_get_max_threads();
    if (slots < hp_cpu_cores()) slots = hp_cpu_cores();
    plan->nslots = slots > HP_MAX_SLOTS ? HP_MAX_SLOTS : slots;
    for (int i = 0; i < HP_MAX_LAYERS; i++) plan->layer_op[i] = -1;
    plan->first_param_op = -1;

    builder bd = {.spec = spec, .p = plan, .cur = {c, h, w, 0}, .input = {c, h, w, 0}, .cur_op = -1};
    builder *b = &bd;
    int rc = mark_sources(b, err);
    for (int i = 0; rc == 0 && i < spec->nlayers; i++) {
        int last = plan_layer(b, i, err);
        if (last < 0) rc = -1;
        else i = last;
    }
    if (rc == 0) rc = check_logits(b, err);
    if (rc == 0) finish_plan(b);
    return rc;
}

hp_init hp_plan_init_rule(const hp_plan *plan, int layer, double *scale, int *normal) {
    const hp_model_spec *spec = &plan->spec;
    hp_init init = spec->layers[layer].init;
    if (init == HP_INIT_DEFAULT) {
        /* Kaiming for a layer whose output goes into a ReLU (through a batch norm, if any). The
         * logits layer is drawn small (variance 1/(3 fan_in)) so that the first softmax is
         * nearly uniform and the initial loss is near ln(classes), as the recipe's sanity check
         * expects; Xavier there starts at ~1.4x ln(classes) on Fashion-MNIST. */
        int next = layer + 1;
        while (next < spec->nlayers && spec->layers[next].type == HP_LAYER_BATCHNORM) next++;
        int relu = next < spec->nlayers &&
                   (spec->layers[next].type == HP_LAYER_RELU || spec->layers[next].type == HP_LAYER_LEAKY_RELU);
        int last = 1;
        for (int k = layer + 1; k < spec->nlayers; k++)
            last &= spec->layers[k].type != HP_LAYER_DENSE && spec->layers[k].type != HP_LAYER_CONV;
        if (relu)
            init = HP_INIT_KAIMING_UNIFORM;
        else
            init = last ? HP_INIT_FAN_IN_UNIFORM : HP_INIT_XAVIER_UNIFORM;
    }
    double fan_in = 1, fan_out = 1;
    for (int k = 0; k < plan->nops; k++) {
        const hp_plan_op *op = &plan->ops[k];
        if (op->layer != layer) continue;
        if (op->type == HP_LAYER_DENSE) fan_in = (double)op->in_n, fan_out = op->out.c;
        if (op->type == HP_LAYER_CONV) {
            double kk = (double)op->conv.k * op->conv.k;
            fan_in = op->conv.C * kk, fan_out = op->conv.F * kk; // PyTorch's _calculate_fan_in_and_fan_out
        }
    }
    *normal = init == HP_INIT_KAIMING_NORMAL || init == HP_INIT_XAVIER_NORMAL;
    // He et al. (2015) for ReLU, gain sqrt(2): U(-b, b) with b = gain * sqrt(3 / fan_in), or
    // N(0, gain^2 / fan_in). Glorot & Bengio (2010): variance 2 / (fan_in + fan_out).
    switch (init) {
    case HP_INIT_KAIMING_UNIFORM: *scale = sqrt(6.0 / fan_in); break;
    case HP_INIT_KAIMING_NORMAL: *scale = sqrt(2.0 / fan_in); break;
    case HP_INIT_XAVIER_UNIFORM: *scale = sqrt(6.0 / (fan_in + fan_out)); break;
    case HP_INIT_XAVIER_NORMAL: *scale = sqrt(2.0 / (fan_in + fan_out)); break;
    case HP_INIT_FAN_IN_UNIFORM: *scale = 1.0 / sqrt(fan_in); break;
    default: *scale = 0; break; // HP_INIT_ZERO
    }
    return init;
}
