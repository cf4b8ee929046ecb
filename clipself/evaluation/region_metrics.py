"""Per-class mean accuracy of zero-shot region classification (plain numpy; the mmengine metric wraps it).

A region record holds, per feature kind, the rank of the true class among the model's top-k predictions
(``k`` when it is not among them). Top-``t`` accuracy of a class = the fraction of its regions with
``rank < t``; the metric (``macc``) is the mean of that over the classes present, in percent, computed for thing
and stuff regions separately (as the CLIPSelf paper reports it).
"""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

KINDS = ('rois', 'crops', 'maskpool')
GROUPS = ('thing', 'stuff')


def true_class_rank(topk_indices: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Position of ``labels[i]`` in row i of ``topk_indices [N, k]`` (best first); ``k`` when absent."""
    topk_indices, labels = np.asarray(topk_indices), np.asarray(labels)
    if topk_indices.ndim != 2 or len(topk_indices) != len(labels):
        raise ValueError(f'topk_indices must be [N, k] with N = len(labels) = {len(labels)}, '
                         f'got {topk_indices.shape}')
    k = topk_indices.shape[1]
    hits = topk_indices == labels[:, None]
    return np.where(hits.any(1), hits.argmax(1), k).astype(np.int16)


def per_class_accuracy(hits: np.ndarray, labels: np.ndarray) -> Dict[int, Tuple[float, int]]:
    """``{class: (fraction of its regions that are hits, number of its regions)}`` over the classes present."""
    hits, labels = np.asarray(hits, bool), np.asarray(labels)
    out = {}
    for c in np.unique(labels):
        sel = labels == c
        out[int(c)] = (float(hits[sel].mean()), int(sel.sum()))
    return out


def mean_class_accuracy(hits: np.ndarray, labels: np.ndarray) -> float:
    """Mean over the classes present of the per-class hit rate, in percent; NaN when there are no regions."""
    acc = per_class_accuracy(hits, labels)
    return 100.0 * float(np.mean([a for a, _ in acc.values()])) if acc else float('nan')


def summarize(records: Sequence[dict], *, topk: Sequence[int] = (1, 5), class_names: Optional[Sequence[str]] = None,
              kinds: Optional[Sequence[str]] = None) -> Dict:
    """Aggregate per-image records into the metrics.

    Args:
        records: one per image: ``labels [K]`` int, ``isthing [K]`` bool, ``ranks {kind: [K]}`` (see
            :func:`true_class_rank`) and optional counters ``num_unknown``, ``num_filtered``,
            ``num_not_in_png``, ``num_beyond_max``.
        topk: the accuracies to report (``rank < t``).
        class_names: names for the per-class table (default: the label indices).
        kinds: feature kinds to report (default: those present in the records, in ``KINDS`` order).
    Returns:
        ``{'metrics': {'rois.thing.macc1': %, ..., 'num_regions.thing': n, ...}, 'per_class': {kind: {name:
        {'num': n, 'top1': %, ...}}}}``; a group without regions gets NaN accuracies.
    """
    records = list(records)
    if kinds is None:
        present = set().union(*(r['ranks'].keys() for r in records)) if records else set(KINDS)
        kinds = [k for k in KINDS if k in present] + sorted(present - set(KINDS))
    cat = (lambda key: np.concatenate([np.asarray(r[key]).reshape(-1) for r in records])
           if records else np.zeros(0))
    labels, isthing = cat('labels').astype(np.int64), cat('isthing').astype(bool)
    metrics: Dict[str, float] = {}
    per_class: Dict[str, Dict] = {}
    for kind in kinds:
        ranks = (np.concatenate([np.asarray(r['ranks'][kind]).reshape(-1) for r in records])
                 if records else np.zeros(0, np.int16))
        if len(ranks) != len(labels):
            raise ValueError(f'{kind}: {len(ranks)} ranks for {len(labels)} regions')
        for group, sel in (('thing', isthing), ('stuff', ~isthing)):
            for t in topk:
                metrics[f'{kind}.{group}.macc{t}'] = mean_class_accuracy(ranks[sel] < t, labels[sel])
        table = {}
        for t in topk:
            for c, (acc, n) in per_class_accuracy(ranks < t, labels).items():
                name = class_names[c] if class_names is not None and c < len(class_names) else str(c)
                table.setdefault(name, {'num': n})[f'top{t}'] = 100.0 * acc
        per_class[kind] = table
    metrics['num_regions.thing'] = int(isthing.sum())
    metrics['num_regions.stuff'] = int((~isthing).sum())
    metrics['num_images'] = len(records)
    for key in ('num_unknown', 'num_filtered', 'num_not_in_png', 'num_beyond_max'):
        metrics[f'skipped.{key[4:]}'] = int(sum(int(r.get(key, 0)) for r in records))
    return {'metrics': metrics, 'per_class': per_class}


def format_table(metrics: Dict[str, float], *, topk: Sequence[int] = (1, 5), kinds: Sequence[str] = KINDS) -> str:
    """The accuracies as a small text table (rows: kinds; columns: thing/stuff x top-k)."""
    cols = [f'{g}.macc{t}' for g in GROUPS for t in topk]
    lines = ['kind      ' + ' '.join(f'{c:>12}' for c in cols)]
    for kind in kinds:
        if f'{kind}.thing.macc{topk[0]}' in metrics:
            lines.append(f'{kind:<10}' + ' '.join(f'{metrics[f"{kind}.{c}"]:12.2f}' for c in cols))
    lines.append(f'regions: {metrics.get("num_regions.thing", 0)} thing, {metrics.get("num_regions.stuff", 0)} '
                 f'stuff in {metrics.get("num_images", 0)} images')
    return '\n'.join(lines)


def records_from_predictions(labels: np.ndarray, isthing: np.ndarray, topk: Dict[str, np.ndarray]) -> Dict[str, List]:
    """Convenience: a record from labels, isthing and ``{kind: [K, k] top-k indices}``."""
    return {'labels': np.asarray(labels), 'isthing': np.asarray(isthing, bool),
            'ranks': {kind: true_class_rank(idx, labels) for kind, idx in topk.items()}}
