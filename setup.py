from setuptools import find_packages, setup

setup(
    name='clipself',
    version='0.1.0',
    description='Dense CLIP features, CLIPSelf self-distillation and open-vocabulary detection/segmentation',
    packages=find_packages(include=['clipself', 'clipself.*']),
    package_data={'clipself': ['models/vocab/*.json', 'models/model_configs/*.json']},
    python_requires='>=3.10',
    install_requires=['torch', 'torchvision', 'open_clip_torch', 'timm', 'safetensors', 'numpy', 'pillow'],
)
