"""hpsweep_report: the trainer's side of hpsweep's external-trainer protocol (docs/external.md).

Standard library only. Copy it next to your training script, or put this folder on PYTHONPATH.

    import hpsweep_report as hr
    p = hr.params()                      # {"lr": 0.01, "weight_decay": 0.0005, ...}
    for epoch in range(hr.resume_epoch() + 1, hr.epochs(10) + 1):
        ...train, validate...
        hr.report(epoch, train_loss=tl, train_acc=ta, val_loss=vl, val_acc=va)
        ...save the checkpoint at hr.checkpoint_path()...

Outside hpsweep (no HPSWEEP_METRICS_FD) every function still works: params() is empty,
resume_epoch() is 0, mode() is "train", and report() prints its lines to stderr (with a hint once),
so the same script runs by hand.
"""
import json
import math
import os
import sys

LINE_MAX = 4096  # bytes of one metrics line (hpsweep refuses longer ones)

_hinted = False


def inside_hpsweep():
    """True when hpsweep started this program (the metrics fd is set)."""
    return "HPSWEEP_METRICS_FD" in os.environ


def _hint(what):
    global _hinted
    if not _hinted:
        _hinted = True
        print("hpsweep_report: %s (not run by hpsweep): metrics lines go to stderr" % what, file=sys.stderr)


def trial():
    """The whole params.json: {"trial", "seed", "epochs", "resume_epoch", "mode", "params"}; {} outside hpsweep."""
    path = os.environ.get("HPSWEEP_PARAMS")
    if not path:
        return {}
    with open(path) as f:
        return json.load(f)


def params():
    """The trial's hyperparameters by name (numbers as numbers, other values as strings); {} outside hpsweep."""
    return trial().get("params", {})


def _int_env(name, default):
    v = os.environ.get(name)
    return int(v) if v not in (None, "") else default


def trial_id(default=0):
    return _int_env("HPSWEEP_TRIAL_ID", default)


def seed(default=0):
    """The trial's seed (an unsigned 64-bit integer): seed your random generators from it."""
    return _int_env("HPSWEEP_SEED", default)


def epochs(default=10):
    """Planned epochs."""
    return _int_env("HPSWEEP_EPOCHS", default)


def resume_epoch():
    """Epochs hpsweep already recorded: continue after this one (from your checkpoint if you have one)."""
    return _int_env("HPSWEEP_RESUME_EPOCH", 0)


def mode():
    """"train", or "test": evaluate the snapshot at snapshot_path() and call report_test() once."""
    return os.environ.get("HPSWEEP_MODE", "train")


def workdir():
    return os.environ.get("HPSWEEP_WORKDIR", os.getcwd())


def checkpoint_path():
    """Where to save your full state after each epoch (write a temporary file, then os.replace)."""
    return os.environ.get("HPSWEEP_CHECKPOINT", os.path.join(os.getcwd(), "checkpoint"))


def snapshot_path():
    """Where to keep the best-on-objective model (train), or the model to evaluate (test)."""
    return os.environ.get("HPSWEEP_SNAPSHOT", os.path.join(os.getcwd(), "best"))


def _number(k, v):
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    try:
        return float(v)  # numpy and torch scalars too
    except (TypeError, ValueError):
        raise TypeError("hpsweep_report: metric %r is %r, not a number" % (k, v))


def _write(obj):
    line = json.dumps(obj, allow_nan=True) + "\n"  # NaN, Infinity, -Infinity as hpsweep reads them
    data = line.encode("utf-8")
    if len(data) > LINE_MAX + 1:
        raise ValueError("hpsweep_report: a metrics line of %d bytes is over %d" % (len(data) - 1, LINE_MAX))
    fd = os.environ.get("HPSWEEP_METRICS_FD")
    if fd is None:
        _hint("HPSWEEP_METRICS_FD is not set")
        sys.stderr.write(line)
        sys.stderr.flush()
        return line
    fd = int(fd)
    while data:  # one write (a line under 4096 bytes is written whole)
        n = os.write(fd, data)
        data = data[n:]
    return line


def report(epoch, **metrics):
    """One epoch's line: report(3, train_loss=0.41, val_loss=0.45, val_acc=0.86, lr=0.01).

    epoch: 1-based, each epoch once, in order (after resume_epoch()). Accuracies are fractions in
    [0, 1]. Values may be NaN or infinite. Returns the dict written (keep it in your checkpoint to
    replay() after a resume)."""
    if isinstance(epoch, bool) or int(epoch) != epoch or epoch < 1:
        raise ValueError("hpsweep_report: epoch %r is not an integer >= 1" % (epoch,))
    obj = {"epoch": int(epoch)}
    for k, v in metrics.items():
        obj[k] = _number(k, v)
    _write(obj)
    return obj


def replay(lines):
    """After a resume: report again the saved lines (report()'s return values) of the epochs after
    resume_epoch(), when your checkpoint is ahead of what hpsweep recorded. hpsweep ignores the
    lines of epochs it already has, so replaying every saved line is always safe."""
    r = resume_epoch()
    for obj in lines:
        if obj.get("epoch", 0) > r:
            _write(obj)


def report_test(test_loss, test_acc, **metrics):
    """Mode test: the one line with the snapshot's loss and accuracy on the test split."""
    obj = {"test_loss": _number("test_loss", test_loss), "test_acc": _number("test_acc", test_acc)}
    for k, v in metrics.items():
        obj[k] = _number(k, v)
    _write(obj)
    return obj


def save_json_atomic(path, obj):
    """Write obj as JSON to path through a temporary file and a rename (a kill never leaves half a file)."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, allow_nan=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def is_bad(x):
    """True for NaN or an infinity (a diverged loss)."""
    return isinstance(x, float) and (math.isnan(x) or math.isinf(x))
