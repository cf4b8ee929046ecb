"""What the demo runs: its CLIP, the world's size, the two variants' sizes, the distillation variants."""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO_CLIP = os.path.join(ROOT, 'assets', 'demo_clip_eva02-small-8.safetensors')
MODEL = 'EVA02-Small-8'
# the demo's towers: the shipped EVA02-style CLIP (default) or a SigLIP-style one pre-trained with the sigmoid loss
# (no shipped file: pre-trained by the run, or passed with --clip); pixel normalisation on the 0-255 scale for F-ViT
TOWERS = {
    'eva02': dict(model=MODEL, loss='clip', pixel_norm=None),  # None: the F-ViT config's (CLIP's)
    'siglip': dict(model='SigLIP-Small-8', loss='sigmoid', pixel_norm=([127.5] * 3, [127.5] * 3)),
}
SCENE = 192           # scenes are 192 x 192 px: the student sees a 24 x 24 token grid
CROP = 64             # the CLIP's pre-training size
NOVEL = ('star', 'ring')
SIZES = {  # full run (make demo) and the fast variant of the test suite
    'full': dict(train_images=320, val_images=160, zero_shot_images=400, epochs=6, batch=2, lr=2e-4,
                 fvit_epochs=2, seg_images=40),
    'fast': dict(train_images=64, val_images=24, zero_shot_images=64, epochs=4, batch=2, lr=2e-4,
                 fvit_epochs=1, seg_images=8),
}
ENSEMBLE_ROWS = ('after', 'after_preserve')  # variants whose exported ensemble (alpha 0.7) is evaluated too
VARIANTS = {  # result prefix -> distillation settings; make demo runs DEFAULT_VARIANTS, --all-variants all of them
    'after': dict(sampler='proposals', loss_image_weight=0.0),
    'after_patches': dict(sampler='grid', loss_image_weight=0.0),
    # the image term on the whole image and 4 of its 20 crops: on all of them it doubled the run's time
    'after_preserve': dict(sampler='proposals', loss_image_weight=1.0, loss_image_crops=4),
}
# make demo's distillations: the paper's two (region proposals, image patches); the third (proposals + loss_image)
# would add 650 s to a demo meant to end within 15 minutes on 2 cores: tools/demo_pipeline.py --all-variants
DEFAULT_VARIANTS = ('after', 'after_patches')
