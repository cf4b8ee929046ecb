"""The demo figures the README quotes, kept equal to what the demo measures.

``docs/demo_results.json`` holds them: the settings of the run they come from (``make demo``: seed 0, the full
variant) and, per figure, its ``results.json`` key, a label, how it is shown (``scale``: 100 for the fractions
of ``results.json`` shown as percent; ``digits``) and its shown value. :func:`render_table` turns them into the
markdown table the README holds between ``<!-- demo-figures:begin -->`` and ``<!-- demo-figures:end -->``; at
the end of every run :func:`check_figures` compares the run's figures with them and warns, loudly, about each
one that differs; :func:`update_docs` (``tools/demo_pipeline.py --update-docs``) rewrites the values and the
README block from a run.
"""
import json
import logging
import math
import os
from typing import Dict, List, Optional

from ..fileio import atomic_write, write_json
from .settings import ROOT

logger = logging.getLogger(__name__)

DOCS_FIGURES = os.path.join(ROOT, 'docs', 'demo_results.json')
README = os.path.join(ROOT, 'README.md')
BEGIN, END = '<!-- demo-figures:begin -->', '<!-- demo-figures:end -->'


def load_documented(path: str = DOCS_FIGURES) -> dict:
    """``docs/demo_results.json``, checked: ``run`` (settings) and ``figures`` (entries with ``key``, ``label``,
    ``value``; optional ``scale``, ``digits``)."""
    with open(path, encoding='utf-8') as f:
        doc = json.load(f)
    if not isinstance(doc.get('run'), dict) or not isinstance(doc.get('figures'), list) or not doc['figures']:
        raise ValueError(f'{path}: expected {{"run": {{...}}, "figures": [{{"key", "label", "value"}}, ...]}}')
    for i, entry in enumerate(doc['figures']):
        missing = [k for k in ('key', 'label', 'value') if k not in entry]
        if missing:
            raise ValueError(f'{path}: figures[{i}] lacks {missing}')
    return doc


def shown(entry: dict, results: Dict) -> Optional[float]:
    """The run's figure ``results[entry['key']]`` as the README shows it (scaled, rounded); None if absent."""
    value = results.get(entry['key'])
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    return round(float(value) * entry.get('scale', 1), entry.get('digits', 1))


def settings_differ(doc: dict, results: Dict) -> List[str]:
    """The run settings (seed, variant, ...) in which ``results`` is not the documented run."""
    return [f'{k} {results.get(k)!r} (documented: {v!r})' for k, v in doc['run'].items() if results.get(k) != v]


def compare(doc: dict, results: Dict) -> List[str]:
    """One line per documented figure that the run does not reproduce as shown (or lacks)."""
    out = []
    for entry in doc['figures']:
        now = shown(entry, results)
        was = entry['value']
        if now is None:
            out.append(f"{entry['key']} ({entry['label']}): documented {was}, missing from this run")
        elif not math.isclose(now, was, rel_tol=0, abs_tol=1e-9):
            out.append(f"{entry['key']} ({entry['label']}): documented {was}, this run {now}")
    return out


def _format(entry: dict) -> str:
    return f"{entry['value']:.{entry.get('digits', 1)}f}"


def render_table(doc: dict) -> str:
    """The README's block (between the markers, markers excluded): the run's settings and a table of the
    figures with their ``results.json`` keys."""
    run = doc['run']
    lines = [f"What `make demo` measured (seed {run.get('seed')}, {run.get('variant')} variant). "
             'Every run compares its',
             '`results.json` with `docs/demo_results.json` and warns about each figure that differs:', '',
             '| figure | value | `results.json` key |', '|---|---:|---|']
    lines += [f"| {e['label']} | {_format(e)} | `{e['key']}` |" for e in doc['figures']]
    return '\n'.join(lines)


def replace_block(text: str, block: str, *, where: str = 'README.md') -> str:
    """``text`` with what lies between the two marker lines replaced by ``block``."""
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise ValueError(f'{where} needs exactly one {BEGIN} line followed by one {END} line')
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f'{head}{BEGIN}\n{block}\n{END}{tail}'


def readme_block(text: str) -> str:
    """What ``text`` (the README) holds between the markers, without the marker lines."""
    replace_block(text, '')  # checks the markers
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip('\n')


def check_figures(results: Dict, *, path: str = DOCS_FIGURES) -> List[str]:
    """Compare a run with the documented figures; a WARNING (one line per figure that differs) when it is the
    documented run's settings and differs. Returns the differences (empty when equal or not comparable)."""
    doc = load_documented(path)
    other = settings_differ(doc, results)
    if other:
        logger.info('demo figures not compared with %s: this run differs in %s', path, ', '.join(other))
        return []
    diffs = compare(doc, results)
    if diffs:
        bar = '!' * 100
        where = os.path.relpath(path, ROOT)
        logger.warning('\n'.join([bar, f'{len(diffs)} demo figure(s) differ from {where}, which the README quotes:',
                                  *('  ' + d for d in diffs),
                                  'If the change is intended: tools/demo_pipeline.py --update-docs (rewrites it and '
                                  'the README table).', bar]))
    else:
        logger.info('demo figures equal those of %s (the README table)', path)
    return diffs


def update_docs(results: Dict, *, path: str = DOCS_FIGURES, readme: str = README) -> None:
    """Rewrite the documented values from ``results`` (a run with the documented settings) and the README block."""
    doc = load_documented(path)
    other = settings_differ(doc, results)
    if other:
        raise ValueError(f'not the documented run ({", ".join(other)}): {path} left as it is')
    for entry in doc['figures']:
        now = shown(entry, results)
        if now is None:
            raise ValueError(f"this run has no figure {entry['key']!r} ({entry['label']}): {path} left as it is")
        entry['value'] = now
    write_json(doc, path, indent=1)
    with open(readme, encoding='utf-8') as f:
        text = f.read()
    with atomic_write(readme) as f:
        f.write(replace_block(text, render_table(doc), where=readme))
    logger.info('updated %s and the figures in %s', path, readme)
