"""The launch scripts users outgrow one process with (tools/*.sh): they parse (`bash -n`), and hand torchrun /
srun the command mmdet's scripts would, checked with a stand-in `srun` / python that records its arguments.
(tools/dist_test.sh also runs for real in tests/evaluation/test_tools.py; tools/dist_train.sh's torchrun
launch is what tests/distill/test_train_runs.py runs.)"""
import os
import shlex
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = os.path.join(ROOT, 'tools')
SCRIPTS = ['dist_run.sh', 'dist_train.sh', 'dist_test.sh', 'slurm_run.sh', 'slurm_train.sh', 'slurm_test.sh',
           'setup_env.sh']


@pytest.mark.parametrize('name', SCRIPTS)
def test_script_parses_and_is_executable(name):
    path = os.path.join(TOOLS, name)
    assert os.access(path, os.X_OK), f'{name} is not executable'
    out = subprocess.run(['bash', '-n', path], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def _recorder(tmp_path, name):
    """An executable ``name`` that appends its arguments (one line, shell-quoted) to ``calls.txt``."""
    path = tmp_path / 'bin' / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(f'#!/usr/bin/env bash\necho "{name} $*" >> {tmp_path}/calls.txt\n')
    path.chmod(0o755)
    return str(path)


def _run(tmp_path, script, *args, **env):
    python = _recorder(tmp_path, 'python')
    _recorder(tmp_path, 'srun')
    full_env = dict(os.environ, PATH=f'{tmp_path / "bin"}:{os.environ["PATH"]}', PYTHON=python,
                    **{k: str(v) for k, v in env.items()})
    for k in ('GPUS', 'GPUS_PER_NODE', 'CPUS_PER_TASK', 'SRUN_ARGS', 'NNODES', 'NODE_RANK', 'MASTER_PORT'):
        if k not in env:
            full_env.pop(k, None)
    out = subprocess.run(['bash', os.path.join(TOOLS, script), *args], capture_output=True, text=True,
                         env=full_env, cwd=tmp_path)
    calls = (tmp_path / 'calls.txt').read_text().splitlines() if (tmp_path / 'calls.txt').exists() else []
    return out, calls


def test_dist_test_sh_runs_test_py_under_torchrun(tmp_path):
    out, calls = _run(tmp_path, 'dist_test.sh', 'cfg.py', 'ckpt.pth', '4', '--out', 'r.pkl', MASTER_PORT=29999)
    assert out.returncode == 0, out.stderr
    (call,) = calls
    argv = shlex.split(call)
    assert argv[:3] == ['python', '-m', 'torch.distributed.run']
    assert {'--nnodes=1', '--node_rank=0', '--nproc_per_node=4', '--master_port=29999'} <= set(argv)
    i = argv.index(os.path.join(TOOLS, 'test.py'))
    assert argv[i + 1:] == ['cfg.py', 'ckpt.pth', '--out', 'r.pkl', '--launcher', 'pytorch']


def test_dist_train_sh_runs_train_py_under_torchrun(tmp_path):
    out, calls = _run(tmp_path, 'dist_train.sh', 'cfg.py', '2', '--amp', NNODES=2, NODE_RANK=1)
    assert out.returncode == 0, out.stderr
    argv = shlex.split(calls[0])
    assert {'--nnodes=2', '--node_rank=1', '--nproc_per_node=2', '--master_port=29500'} <= set(argv)
    i = argv.index(os.path.join(TOOLS, 'train.py'))
    assert argv[i + 1:] == ['cfg.py', '--amp', '--launcher', 'pytorch']


@pytest.mark.parametrize('script,last', [('slurm_train.sh', ['cfg.py', '--work-dir=work', '--amp', '--launcher=slurm']),
                                         ('slurm_test.sh', ['cfg.py', 'work', '--amp', '--launcher=slurm'])])
def test_slurm_scripts_run_one_task_per_gpu(tmp_path, script, last):
    out, calls = _run(tmp_path, script, 'gpu-part', 'clipself', 'cfg.py', 'work', '--amp', GPUS=16,
                      SRUN_ARGS='--quotatype=spot --time=1:00:00')
    assert out.returncode == 0, out.stderr
    (call,) = calls
    argv = shlex.split(call)
    assert argv[0] == 'srun'
    assert argv[1:9] == ['-p', 'gpu-part', '--job-name=clipself', '--gres=gpu:8', '--ntasks=16',
                         '--ntasks-per-node=8', '--cpus-per-task=5', '--kill-on-bad-exit=1']
    assert argv[9:11] == ['--quotatype=spot', '--time=1:00:00']
    script_py = 'train.py' if 'train' in script else 'test.py'
    assert argv[11].endswith('/python') and argv[12] == '-u' and argv[13] == os.path.join(TOOLS, script_py)
    assert argv[14:] == last


def test_slurm_defaults_and_a_small_job(tmp_path):
    out, calls = _run(tmp_path, 'slurm_train.sh', 'p', 'j', 'cfg.py', 'w', GPUS=2)
    assert out.returncode == 0, out.stderr
    assert '--gres=gpu:2 --ntasks=2 --ntasks-per-node=2' in calls[0]


@pytest.mark.parametrize('script', ['dist_train.sh', 'dist_test.sh', 'slurm_train.sh', 'slurm_test.sh'])
def test_missing_arguments_print_the_usage(tmp_path, script):
    out, calls = _run(tmp_path, script, 'cfg.py') if script != 'dist_train.sh' else _run(tmp_path, script)
    assert out.returncode == 2 and 'usage:' in out.stderr and not calls
