"""The demo figures the README quotes: the README's table is the rendering of docs/demo_results.json, and a run
whose figures differ is flagged, figure by figure."""
import json
import logging
import os
import shutil

import pytest

from clipself.demo import figures

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _results_of(doc: dict) -> dict:
    """A results.json that reproduces the documented figures (as the run writes them: fractions, percent)."""
    res = dict(doc['run'])
    for e in doc['figures']:
        res[e['key']] = e['value'] / e.get('scale', 1) + 0.01 / e.get('scale', 1)  # rounds to the shown value
    return res


def test_readme_block_is_the_rendering_of_docs_demo_results():
    doc = figures.load_documented()
    with open(os.path.join(ROOT, 'README.md'), encoding='utf-8') as f:
        readme = f.read()
    assert figures.readme_block(readme) == figures.render_table(doc), (
        'README.md demo table and docs/demo_results.json differ: run tools/demo_pipeline.py --update-docs, or '
        'render docs/demo_results.json into the README block')
    assert {e['key'] for e in doc['figures']} >= {'after.rois.thing.macc1', 'fvit.novel_ap50.distilled',
                                                  'fvit.base_ap50.distilled'}


def test_a_changed_figure_is_flagged_loudly(caplog):
    doc = figures.load_documented()
    res = _results_of(doc)
    assert figures.compare(doc, res) == []
    res['after.rois.thing.macc1'] += 0.9
    res['after.clip_zeroshot_top1'] += 0.05  # a fraction in results.json, percent in the README
    del res['fvit.base_ap50.distilled']
    diffs = figures.compare(doc, res)
    assert len(diffs) == 3
    assert any(d.startswith('after.rois.thing.macc1') for d in diffs)
    assert any(d.startswith('after.clip_zeroshot_top1') for d in diffs)
    assert any('fvit.base_ap50.distilled' in d and 'missing' in d for d in diffs)
    with caplog.at_level(logging.INFO, logger='clipself.demo.figures'):
        assert figures.check_figures(res) == diffs
    warning = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warning) == 1 and all(d in warning[0].getMessage() for d in diffs)
    caplog.clear()
    res['variant'] = 'fast'  # the test suite's variant is not the documented run: not compared
    with caplog.at_level(logging.INFO, logger='clipself.demo.figures'):
        assert figures.check_figures(res) == []
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]


def test_update_docs_rewrites_the_figures_and_the_readme_block(tmp_path):
    docs, readme = tmp_path / 'demo_results.json', tmp_path / 'README.md'
    shutil.copy(figures.DOCS_FIGURES, docs)
    readme.write_text(f'# x\n\n{figures.BEGIN}\nold\n{figures.END}\n\nmore text\n')
    doc = figures.load_documented(str(docs))
    res = _results_of(doc)
    res['fvit.novel_ap50.distilled'] = 12.345
    figures.update_docs(res, path=str(docs), readme=str(readme))
    new = figures.load_documented(str(docs))
    assert {e['key']: e['value'] for e in new['figures']}['fvit.novel_ap50.distilled'] == 12.3
    text = readme.read_text()
    assert figures.readme_block(text) == figures.render_table(new) and text.endswith('\n\nmore text\n')
    assert '| 12.3 | `fvit.novel_ap50.distilled` |' in text
    res['seed'] = 1
    with pytest.raises(ValueError, match='seed'):
        figures.update_docs(res, path=str(docs), readme=str(readme))
    with pytest.raises(ValueError, match='demo-figures:begin'):
        figures.replace_block('no markers here', 'x')
    assert json.loads(docs.read_text())['run']['seed'] == 0
