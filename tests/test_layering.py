"""The package layering (docs/architecture.md): a package imports only packages below it, and the plain-PyTorch
core (models, data, distill, evaluation) imports no mm* package. Read from the source (every import statement,
including those inside functions), so a lazy import cannot hide a violation."""
import ast
import os
import subprocess
import sys


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PKG = os.path.join(ROOT, 'clipself')
# bottom up; a package may import its own modules, those of its layer and those of lower layers, except that det
# and seg do not import each other and nothing imports the test oracle. Root-level modules are placed by what
# they are.
LAYERS = [
    {'fileio', '__init__'},              # plain Python helpers (atomic writes), the package marker
    {'models', 'testing'},               # dense CLIP; the test oracle (imported by no library package)
    {'data'},
    {'distill', 'quant'},                # distillation; post-training quantisation of the image tower
    {'evaluation', 'visualization'},
    {'engine', 'registry'},              # mmengine glue
    {'det', 'seg'},                      # mmdet / mmseg plug-ins
    {'demo'},                            # the make-demo application
]
LAYER = {name: i for i, names in enumerate(LAYERS) for name in names}
MM_FREE = ('models', 'data', 'distill', 'quant', 'evaluation', 'testing', 'fileio')


def _unit(module: str) -> str:
    """'clipself.det.metrics.common' -> 'det'; 'clipself.fileio' -> 'fileio'; 'clipself' -> '__init__'."""
    parts = module.split('.')
    return parts[1] if len(parts) > 1 else '__init__'


def _modules():
    for folder, _, files in os.walk(PKG):
        for f in files:
            if f.endswith('.py'):
                path = os.path.join(folder, f)
                rel = os.path.relpath(path, ROOT)[:-3].replace(os.sep, '.')
                is_pkg = f == '__init__.py'
                yield path, (rel[:-len('.__init__')] if is_pkg else rel), is_pkg


def _imports(path: str, module: str, is_pkg: bool):
    """Absolute names of everything ``path`` imports, with line numbers."""
    tree = ast.parse(open(path, encoding='utf-8').read(), path)
    package = module if is_pkg else module.rsplit('.', 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split('.')
                base = base[:len(base) - (node.level - 1)]
                target = '.'.join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            if node.module is None:
                for a in node.names:  # 'from .. import engine' names a module
                    yield f'{target}.{a.name}', node.lineno
            else:
                yield target, node.lineno


def test_every_package_has_a_layer():
    units = {_unit(m) for _, m, _ in _modules()}
    assert units <= set(LAYER), f'place {sorted(units - set(LAYER))} in LAYERS (tests/test_layering.py)'


def test_no_package_imports_a_higher_one():
    bad = []
    for path, module, is_pkg in _modules():
        src = _unit(module)
        for target, line in _imports(path, module, is_pkg):
            if not target.startswith('clipself.') or target == 'clipself':
                continue
            dst = _unit(target)
            if dst == src:
                continue
            if LAYER[dst] > LAYER[src] or {src, dst} == {'det', 'seg'} or dst == 'testing':
                bad.append(f'{os.path.relpath(path, ROOT)}:{line}: {src} imports {target} ({dst})')
    assert not bad, 'layering violations:\n' + '\n'.join(bad)


def test_core_packages_import_no_mm_package_in_source():
    bad = []
    for path, module, is_pkg in _modules():
        if _unit(module) not in MM_FREE:
            continue
        for target, line in _imports(path, module, is_pkg):
            if target.split('.')[0] in ('mmengine', 'mmcv', 'mmdet', 'mmseg'):
                bad.append(f'{os.path.relpath(path, ROOT)}:{line}: {target}')
    assert not bad, 'mm* imports in the core:\n' + '\n'.join(bad)


def test_importing_the_core_loads_no_mm_package_and_patches_nothing():
    """In a fresh interpreter: every module of models, data, distill, evaluation imports no mm* package and leaves
    open_clip's registry alone; mmengine is patched only once the registration entry point is imported."""
    code = """
import importlib, pkgutil, sys
import open_clip
import clipself
for name in ('models', 'data', 'distill', 'evaluation'):
    pkg = importlib.import_module('clipself.' + name)
    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):
        importlib.import_module(m.name)
bad = [m for m in ('mmdet', 'mmseg', 'mmcv', 'mmengine') if m in sys.modules]
assert not bad, f'the core imported {bad}'
assert 'EVA02-Tiny-8' not in open_clip.list_models(), 'open_clip configs registered on import'
from mmengine.logging import HistoryBuffer
stock = HistoryBuffer.__getstate__
assert 'total' not in HistoryBuffer._statistics_methods
import clipself.engine
assert HistoryBuffer.__getstate__ is not stock and 'total' in HistoryBuffer._statistics_methods
assert 'EVA02-Tiny-8' in open_clip.list_models()
print('ok')
"""
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0 and out.stdout.strip() == 'ok', out.stderr[-2000:]


def test_the_import_parser_sees_relative_and_lazy_imports(tmp_path):
    """The checker itself: a lazy relative import of a higher package is found (so the rule can fail)."""
    f = tmp_path / 'x.py'
    f.write_text('def f():\n    from ..engine import patches\n    from .. import det\n')
    found = {t for t, _ in _imports(str(f), 'clipself.data.x', False)}
    assert found == {'clipself.engine', 'clipself.det'}
