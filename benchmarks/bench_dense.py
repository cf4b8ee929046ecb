"""Time and peak memory of dense CLIP features at detector input sizes: ``DenseCLIP.encode_dense`` against what
a user would otherwise run on the same weights.

    python benchmarks/bench_dense.py                                   # EVA02-B-16 and ViT-B-16, 448-1024 px
    python benchmarks/bench_dense.py --reference-src ~/src/CLIPSelf    # + the original CLIPSelf code
    python benchmarks/bench_dense.py --sizes 448 --repeats 5 --models ViT-B-16 --device cpu

Paths, all on one randomly initialised ViT-B/16-sized tower (weights do not change the cost) and one
``[1, 3, S, S]`` image under ``torch.no_grad()``, each giving L2-normalised ``[1, D, S/p, S/p]`` features:
- ours: ``DenseCLIP.encode_dense`` (clipself.models: torch SDPA attention, position embedding / RoPE per grid
  cached, value-only last block);
- stock: the stock libraries driven as a user would without clipself, written out below from open_clip / timm
  calls: for EVA02, timm's ``Eva`` created with ``dynamic_img_size=True`` (its own per-call position-embedding
  resampling and RoPE for the grid, its attention modules) with the open_clip tower's weights; for OpenAI-style
  ViTs, open_clip's ``VisionTransformer`` modules with the position embedding interpolated (bicubic) per call and
  its ``ResidualAttentionBlock``s (``nn.MultiheadAttention``). In both the last block is value-only
  (``x + proj(v(norm1(x)))``, then the MLP), then the final norm and projection on every token;
- original (only with ``--reference-src PATH``, a checkout of github.com/wusize/CLIPSelf): that code's own
  ``encode_dense`` (``EVAVisionTransformer`` from ``src/open_clip/eva_clip/eva_vit_model.py``, OpenAI-style
  ``VisionTransformer`` from ``src/open_clip/transformer.py``), imported from PATH at run time under a private
  package name (its forked ``open_clip`` would otherwise shadow the installed one), built as its training code
  builds the tower (pre-training image size; the grid's position embedding and RoPE computed in the call), with
  our weights converted to its layout (``clipself.models.to_eva_clip``). xformers attention when it is
  installed and the device is CUDA (as the original runs), its plain softmax attention otherwise. Nothing of
  that code is part of this repository; without ``--reference-src`` the column says "not run".

Each (model, size, device) runs in a fresh subprocess that builds the model, warms every path up with one call,
then makes ``n`` timed calls per path, alternating the paths call by call (background load on a shared machine
falls on all of them alike). Reported per path: median wall time with its range (min-max over the n calls), the
ratio of medians to ours, peak memory, and the max |difference| of the features to ours.
- CPU: fp32. Peak memory = growth of the process's peak resident set (``VmHWM``, reset through
  ``/proc/self/clear_refs`` before each call) above the resident set just before the call, i.e. what one call
  adds on top of the loaded model and input; the maximum over the timed calls. The subprocess runs with
  ``MALLOC_MMAP_THRESHOLD_=1 MiB`` so that freed tensors go back to the OS and the resident set follows live
  tensor memory (torch has no caching allocator on CPU).
- GPU (when CUDA is available): bf16 autocast; peak memory = ``torch.cuda.max_memory_allocated()`` during the
  call minus the memory allocated before it (model weights, input).
"load" is the 1-minute load average when the (model, size) finished: above the core count, other processes
competed for the CPU.
"""
import argparse
import importlib
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import types

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MIB = 2 ** 20
PATHS = ('ours', 'stock', 'original')
# clipself model name -> the original code's model config (src/open_clip{/eva_clip}/model_configs/NAME.json)
ORIGINAL_CONFIGS = {'EVA02-B-16': 'EVA02-CLIP-B-16', 'EVA02-L-14-336': 'EVA02-CLIP-L-14-336',
                    'ViT-B-16': 'ViT-B-16', 'ViT-L-14-336': 'ViT-L-14-336'}


# -- the stock-library baseline (what a user writes without clipself) -------------------------------------------

def stock_timm_eva(visual):
    """timm's Eva at a dynamic image size, with the weights of open_clip's ``visual`` (a ``TimmModel``):
    returns ``images [B, 3, H, W] -> [B, D, H/p, W/p]``."""
    import timm
    import torch
    import torch.nn.functional as F
    trunk = visual.trunk
    dyn = timm.create_model(trunk.pretrained_cfg['architecture'], pretrained=False, num_classes=trunk.num_classes,
                            global_pool=trunk.global_pool, img_size=trunk.patch_embed.img_size, dynamic_img_size=True)
    dyn.load_state_dict(trunk.state_dict())
    dyn.eval().to(next(trunk.parameters()).device)
    head = visual.head  # open_clip's projection after the trunk (Identity when the trunk's head projects)

    def encode(images):
        x = dyn.patch_embed(images)  # shape: [B, h, w, C] (dynamic_img_size)
        b, h, w, _ = x.shape
        x, rope = dyn._pos_embed(x)  # resampled position embedding, RoPE for (h, w)
        x = dyn.norm_pre(x)
        for blk in dyn.blocks[:-1]:
            x = blk(x, rope=rope)
        blk, attn = dyn.blocks[-1], dyn.blocks[-1].attn
        y = blk.norm1(x)
        if attn.qkv is not None:
            c = attn.qkv.weight.shape[0] // 3
            v = F.linear(y, attn.qkv.weight[2 * c:], attn.v_bias)
        else:
            v = attn.v_proj(y)
        v = attn.proj(attn.norm(v))
        x = x + (blk.gamma_1 * v if blk.gamma_1 is not None else v)
        m = blk.mlp(blk.norm2(x))
        x = x + (blk.gamma_2 * m if blk.gamma_2 is not None else m)
        x = head(dyn.head(dyn.fc_norm(dyn.norm(x[:, dyn.num_prefix_tokens:]))))  # shape: [B, h*w, D]
        return F.normalize(x, dim=-1).transpose(1, 2).reshape(b, -1, h, w)
    return encode


def stock_open_clip_vit(visual):
    """open_clip's OpenAI-style ``VisionTransformer`` at a dynamic image size: returns
    ``images [B, 3, H, W] -> [B, D, H/p, W/p]``."""
    import torch
    import torch.nn.functional as F

    def encode(images):
        x = visual.conv1(images)  # shape: [B, C, h, w]
        b, c, h, w = x.shape
        x = x.flatten(2).transpose(1, 2)  # shape: [B, h*w, C]
        pe = visual.positional_embedding
        g0, g1 = visual.grid_size
        grid = F.interpolate(pe[1:].reshape(1, g0, g1, c).permute(0, 3, 1, 2), size=(h, w), mode='bicubic',
                             align_corners=False).permute(0, 2, 3, 1).reshape(h * w, c)
        x = torch.cat([visual.class_embedding.expand(b, 1, c), x], dim=1) + torch.cat([pe[:1], grid])
        x = visual.ln_pre(x)
        blocks = visual.transformer.resblocks
        for blk in blocks[:-1]:
            x = blk(x)
        blk, mha = blocks[-1], blocks[-1].attn
        v = F.linear(blk.ln_1(x), mha.in_proj_weight[2 * c:], mha.in_proj_bias[2 * c:])
        x = x + blk.ls_1(mha.out_proj(v))
        x = x + blk.ls_2(blk.mlp(blk.ln_2(x)))
        x = visual.ln_post(x[:, 1:]) @ visual.proj  # shape: [B, h*w, D]
        return F.normalize(x, dim=-1).transpose(1, 2).reshape(b, -1, h, w)
    return encode


# -- the original CLIPSelf code, imported from a checkout -----------------------------------------------------

def _import_original(src):
    """The original code's ``eva_clip.eva_vit_model`` and ``transformer`` modules, imported from the checkout at
    ``src`` under the package name ``_clipself_original`` (without running its package ``__init__``, which
    imports training-only dependencies)."""
    pkg = os.path.join(os.path.abspath(os.path.expanduser(src)), 'src', 'open_clip')
    if not os.path.isfile(os.path.join(pkg, 'eva_clip', 'eva_vit_model.py')):
        raise SystemExit(f'--reference-src {src}: {pkg}/eva_clip/eva_vit_model.py not found; expected a checkout of '
                         'github.com/wusize/CLIPSelf')
    for name, path in (('_clipself_original', pkg), ('_clipself_original.eva_clip', os.path.join(pkg, 'eva_clip'))):
        if name not in sys.modules:
            mod = types.ModuleType(name)
            mod.__path__ = [path]
            sys.modules[name] = mod
    return (importlib.import_module('_clipself_original.eva_clip.eva_vit_model'),
            importlib.import_module('_clipself_original.transformer'), pkg)


def original_encoder(model, src, device):
    """The original code's tower with ``model``'s weights: returns ``images -> [B, D, H/p, W/p]``."""
    import functools
    return functools.partial(original_tower(model, src, device).encode_dense, keep_shape=True)


def original_tower(model, src, device):
    """The original code's image tower (``EVAVisionTransformer`` or ``VisionTransformer``) with ``model``'s weights,
    in eval mode on ``device``; its ``encode_dense(x, keep_shape=True)`` gives ``[B, D, H/p, W/p]``, its
    ``forward(x)`` the CLS embedding."""
    import functools

    import torch
    eva_mod, vit_mod, pkg = _import_original(src)
    name = model.model_name.replace('-quickgelu', '')
    if name not in ORIGINAL_CONFIGS:
        raise SystemExit(f'--reference-src: no original model config for {name} (known: {sorted(ORIGINAL_CONFIGS)})')
    if name.startswith('EVA02'):
        from clipself.models import to_eva_clip
        cfg = json.load(open(os.path.join(pkg, 'eva_clip', 'model_configs', ORIGINAL_CONFIGS[name] + '.json')))
        v = cfg['vision_cfg']
        xattn = bool(v.get('xattn')) and device == 'cuda' and eva_mod.xops is not None
        norm = functools.partial(importlib.import_module('_clipself_original.eva_clip.transformer').LayerNorm,
                                 eps=1e-6)
        tower = eva_mod.EVAVisionTransformer(
            img_size=v['image_size'], patch_size=v['patch_size'], num_classes=cfg['embed_dim'], use_mean_pooling=False,
            init_values=None, patch_dropout=0.0, embed_dim=v['width'], depth=v['layers'],
            num_heads=v['width'] // v['head_width'], mlp_ratio=v['mlp_ratio'], qkv_bias=True, drop_path_rate=0.0,
            norm_layer=norm, xattn=xattn, rope=v['rope'], postnorm=False, pt_hw_seq_len=v['pt_hw_seq_len'],
            intp_freq=v['intp_freq'], naiveswiglu=v['naiveswiglu'], subln=v['subln'])
        sd = {k[len('visual.'):]: t for k, t in to_eva_clip(model.clip.state_dict()).items()
              if k.startswith('visual.')}
    else:
        cfg = json.load(open(os.path.join(pkg, 'model_configs', ORIGINAL_CONFIGS[name] + '.json')))
        v = cfg['vision_cfg']
        act = vit_mod.QuickGELU if model.model_name.endswith('-quickgelu') else torch.nn.GELU
        tower = vit_mod.VisionTransformer(
            image_size=v['image_size'], patch_size=v['patch_size'], width=v['width'], layers=v['layers'],
            heads=v['width'] // 64, mlp_ratio=v.get('mlp_ratio', 4.0), output_dim=cfg['embed_dim'], act_layer=act)
        sd = model.clip.visual.state_dict()
    missing, unexpected = tower.load_state_dict(sd, strict=False)
    missing = [k for k in missing if 'rope' not in k]  # RoPE tables: computed by the tower itself
    if missing or unexpected:
        raise RuntimeError(f'original {name} tower: missing {missing[:5]}, unexpected {unexpected[:5]} keys')
    return tower.eval().to(device)


# -- worker (one model, one size, one device; run in a subprocess) --------------------------------------------

def _proc_kib(field):
    with open('/proc/self/status') as f:
        return int(re.search(rf'^{field}:\s+(\d+) kB', f.read(), re.M).group(1))


def _reset_peak_rss():
    with open('/proc/self/clear_refs', 'w') as f:  # '5' resets VmHWM to the current resident set
        f.write('5')


def _call(fn, x, device):
    """One call: ``(wall seconds, peak MiB above what was allocated/resident before it, output)``."""
    import torch
    if device == 'cuda':
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        t0 = time.perf_counter()
        out = fn(x)
        torch.cuda.synchronize()
        return time.perf_counter() - t0, (torch.cuda.max_memory_allocated() - base) / MIB, out
    _reset_peak_rss()
    base = _proc_kib('VmRSS')
    t0 = time.perf_counter()
    out = fn(x)
    return time.perf_counter() - t0, (_proc_kib('VmHWM') - base) / 1024, out


def _measure(paths, x, repeats, device):
    """Warm up every path, then alternate the paths call by call. Returns ``{name: dict(times, peak, out)}``."""
    for fn in paths.values():
        fn(x)
    res = {name: dict(times=[], peak=0.0, out=None) for name in paths}
    for _ in range(repeats):
        for name, fn in paths.items():
            r = res[name]
            r['out'] = None  # free the previous output before measuring
            t, peak, r['out'] = _call(fn, x, device)
            r['times'].append(t)
            r['peak'] = max(r['peak'], peak)
    return res


def worker(model_name, size, device, repeats, reference_src):
    import torch
    sys.path.insert(0, ROOT)
    from clipself.models import build_clip

    torch.manual_seed(0)
    model = build_clip(model_name, device=device)
    visual = model.clip.visual
    stock = stock_timm_eva(visual) if hasattr(visual, 'trunk') else stock_open_clip_vit(visual)
    paths = {'ours': model.encode_dense, 'stock': stock}
    res = dict(model=model_name, size=size, device=device, repeats=repeats,
               grid=list(model.tower.grid_for((size, size))), torch=torch.__version__, threads=torch.get_num_threads())
    if reference_src:
        paths['original'] = original_encoder(model, reference_src, device)
    x = torch.randn(1, 3, size, size, device=device)
    ctx = torch.autocast('cuda', dtype=torch.bfloat16) if device == 'cuda' else torch.autocast('cpu', enabled=False)
    with torch.no_grad(), ctx:
        measured = _measure(paths, x, repeats, device)
    ours = measured['ours']['out'].float()
    for name, m in measured.items():
        res[name] = dict(median_s=statistics.median(m['times']), min_s=min(m['times']), max_s=max(m['times']),
                         times=m['times'], peak_mib=m['peak'],
                         max_abs_diff=(m['out'].float() - ours).abs().max().item())
    res['loadavg_1min'] = os.getloadavg()[0]
    if device == 'cuda':
        res['gpu'] = torch.cuda.get_device_name()
    print('RESULT ' + json.dumps(res), flush=True)


# -- driver -----------------------------------------------------------------------------------------------------

def _cpu_name():
    try:
        with open('/proc/cpuinfo') as f:
            return re.search(r'^model name\s*:\s*(.*)$', f.read(), re.M).group(1)
    except (OSError, AttributeError):
        return platform.processor() or platform.machine()


def run_one(model_name, size, device, repeats, reference_src):
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_=str(MIB), PYTHONWARNINGS='ignore')
    cmd = [sys.executable, os.path.abspath(__file__), '--worker', model_name, str(size), device, str(repeats),
           reference_src or '']
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith('RESULT '):
            return json.loads(line[len('RESULT '):])
    raise RuntimeError(f'worker {model_name} {size} {device} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}')


def fmt_table(rows):
    head = ('| model | device | size (grid) | n | path | median s (min-max) | x ours | peak MiB | x ours | '
            'max abs diff to ours | load |')
    lines = [head, '|' + '---|' * 11]
    for r in rows:
        g = 'x'.join(map(str, r['grid']))
        ours = r['ours']
        for name in PATHS:
            p = r.get(name)
            if p is None:
                lines.append(f"| {r['model']} | {r['device']} | {r['size']} ({g}) | - | {name} | not run "
                             "(no --reference-src) | | | | | |")
                continue
            diff = '-' if name == 'ours' else f"{p['max_abs_diff']:.1e}"
            lines.append(
                f"| {r['model']} | {r['device']} | {r['size']} ({g}) | {r['repeats']} | {name} | "
                f"{p['median_s']:.3f} ({p['min_s']:.3f}-{p['max_s']:.3f}) | {p['median_s'] / ours['median_s']:.2f} | "
                f"{p['peak_mib']:.0f} | {p['peak_mib'] / max(ours['peak_mib'], 1e-9):.2f} | {diff} | "
                f"{r['loadavg_1min']:.1f} |")
    return '\n'.join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--sizes', type=int, nargs='+', default=[448, 640, 896, 1024])
    p.add_argument('--repeats', type=int, default=3, help='timed calls per path (n, at least 3)')
    p.add_argument('--models', nargs='+', default=['EVA02-B-16', 'ViT-B-16'])
    p.add_argument('--device', choices=['auto', 'cpu', 'cuda'], default='auto',
                   help='auto: CPU, plus CUDA when available')
    p.add_argument('--reference-src', metavar='PATH',
                   help='a checkout of github.com/wusize/CLIPSelf: also time its own encode_dense on the same weights')
    p.add_argument('--json', help='also write the results to this file')
    p.add_argument('--worker', nargs=5, metavar=('MODEL', 'SIZE', 'DEVICE', 'REPEATS', 'SRC'), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        m, s, d, n, src = args.worker
        return worker(m, int(s), d, int(n), src or None)
    if args.repeats < 3:
        p.error(f'--repeats {args.repeats}: a median and a range need at least 3 calls')
    if args.reference_src:
        _import_original(args.reference_src)  # fail early on a wrong path

    import torch
    devices = [args.device] if args.device != 'auto' else ['cpu'] + (['cuda'] if torch.cuda.is_available() else [])
    print(f'# {time.strftime("%Y-%m-%d")}  torch {torch.__version__}  CPU: {_cpu_name()}, '
          f'{os.cpu_count()} logical cores, torch threads {torch.get_num_threads()}', flush=True)
    print('# command: python ' + ' '.join([os.path.relpath(__file__, ROOT)] + sys.argv[1:]), flush=True)
    print('# original CLIPSelf code: ' + (f'from {args.reference_src}' if args.reference_src else
                                          'not run (pass --reference-src PATH to a checkout of wusize/CLIPSelf)'),
          flush=True)
    print('# load average at start: %.2f %.2f %.2f' % os.getloadavg(), flush=True)
    rows = []
    t0 = time.time()
    for device in devices:
        for model_name in args.models:
            for size in args.sizes:
                r = run_one(model_name, size, device, args.repeats, args.reference_src)
                rows.append(r)
                print(f'  {model_name} {device} {size}: ' + ', '.join(
                    f'{name} {r[name]["median_s"]:.3f} s / {r[name]["peak_mib"]:.0f} MiB' for name in PATHS
                    if name in r) + f' ({time.time() - t0:.0f} s elapsed)', flush=True)
    if any(r['device'] == 'cuda' for r in rows):
        print(f'# GPU: {next(r["gpu"] for r in rows if r["device"] == "cuda")}')
    print('# load average at end: %.2f %.2f %.2f; %.0f s in all' % (*os.getloadavg(), time.time() - t0))
    print(fmt_table(rows))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(rows, f, indent=1)


if __name__ == '__main__':
    main()
