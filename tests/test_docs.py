"""The repository is self-contained and its documentation's links work: no tracked file refers to a path outside
the repository, every relative link and anchor in the README and docs/ resolves to a tracked file, and the
README keeps the demo-figures block that the demo's report generator rewrites."""
import os
import re
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# spelled in pieces so that this file can be scanned too
OUTSIDE = ['..' + '/shared', '/work' + '/', 'CLIPSELF' + '.md', 'SETUP' + '.md', 'DESIGN' + '.md']
LINK = re.compile(r'!?\[(?:[^\]]|\][^(])*?\]\(([^)\s]+)(?:\s+"[^"]*")?\)')
BEGIN, END = '<!-- demo-figures:begin -->', '<!-- demo-figures:end -->'


def _tracked():
    try:
        out = subprocess.run(['git', 'ls-files', '-z'], cwd=ROOT, capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip('not a git checkout')
    return [p for p in out.stdout.decode().split('\0') if p]


def _text(path):
    try:
        with open(os.path.join(ROOT, path), 'rb') as f:
            data = f.read()
    except FileNotFoundError:  # deleted in the working tree, not yet in the index
        return None
    if b'\0' in data:
        return None
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError:
        return None


def test_no_file_refers_outside_the_repository():
    hits = []
    for path in _tracked():
        text = _text(path)
        if text is None:
            continue
        for n, line in enumerate(text.splitlines(), 1):
            hits += [f'{path}:{n}: {pattern!r} in {line.strip()[:120]!r}' for pattern in OUTSIDE if pattern in line]
    assert not hits, 'references to files outside the repository:\n' + '\n'.join(hits)


def _slug(heading):
    """GitHub's anchor of a markdown heading."""
    return re.sub(r'[^\w\- ]', '', heading.strip().lower()).replace(' ', '-')


def _anchors(text):
    heads = re.findall(r'^#{1,6}\s+(.*?)\s*#*\s*$', re.sub(r'```.*?```', '', text, flags=re.S), re.M)
    return {_slug(h) for h in heads}


def _docs():
    tracked = set(_tracked())
    docs = ['README.md', 'benchmarks/README.md'] + sorted(p for p in tracked if p.startswith('docs/') and
                                                          p.endswith('.md'))
    return tracked, docs


def test_relative_links_in_the_readme_and_docs_resolve():
    tracked, docs = _docs()
    assert 'docs/README.md' in docs
    broken = []
    for doc in docs:
        text = _text(doc)
        for target in LINK.findall(re.sub(r'```.*?```', '', text, flags=re.S)):
            if re.match(r'[a-z][a-z0-9+.-]*:', target):   # http:, https:, mailto: ...
                continue
            path, _, anchor = target.partition('#')
            full = os.path.normpath(os.path.join(os.path.dirname(doc), path)) if path else doc
            if full.startswith('..'):
                broken.append(f'{doc}: {target} leaves the repository')
            elif full not in tracked and not any(p.startswith(full.rstrip('/') + '/') for p in tracked):
                broken.append(f'{doc}: {target} -> {full} is not a tracked file or folder')
            elif anchor and full.endswith('.md') and anchor not in _anchors(_text(full)):
                broken.append(f'{doc}: {target}: no heading #{anchor} in {full}')
    assert not broken, '\n'.join(broken)


def test_link_checker_catches_a_broken_link():
    """The checker's parts on a known case (the test above must be able to fail)."""
    assert LINK.findall('see [a](docs/x.md#b-c) and ![p](img.png "t") [u](https://x.org)') == [
        'docs/x.md#b-c', 'img.png', 'https://x.org']
    assert _anchors('# The `encode_dense` path\n```\n# not a heading\n```\n## 2. CLIPSelf: self-distillation') == {
        'the-encode_dense-path', '2-clipself-self-distillation'}


def test_readme_has_one_demo_figures_block_with_a_table():
    lines = _text('README.md').splitlines()
    assert lines.count(BEGIN) == 1 and lines.count(END) == 1
    block = lines[lines.index(BEGIN) + 1:lines.index(END)]
    rows = [line for line in block if line.startswith('|')]
    assert len(rows) >= 3 and re.fullmatch(r'\|(\s*:?-+:?\s*\|)+', rows[1].replace(' ', '')), block
