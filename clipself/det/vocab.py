"""Which classes of a detector's vocabulary are novel (held out in training): from a list of names or a rule on
a built-in vocabulary (``dict(vocabulary='ov-coco', split='novel')``, ``dict(vocabulary='lvis', frequency='r')``)."""
from typing import List, Optional, Sequence, Union

from ..models.vocabulary import load_vocabulary

NovelSpec = Optional[Union[Sequence[str], dict]]


def novel_names(spec: NovelSpec) -> List[str]:
    """The novel class names a spec names (canonical dataset names).

    Args:
        spec: None or ``[]`` (no novel class); a list of class names; or ``dict(vocabulary=NAME, **condition)``
            selecting classes of a built-in vocabulary with :meth:`Vocabulary.where`, e.g.
            ``dict(vocabulary='ov-coco', split='novel')`` (17), ``dict(vocabulary='lvis', frequency='r')`` (337).
    """
    if spec is None:
        return []
    if isinstance(spec, dict):
        cond = dict(spec)
        name = cond.pop('vocabulary', None)
        if name is None or not cond:
            raise ValueError(f'novel_classes dict needs vocabulary=... and a condition (split=/frequency=), got {spec}')
        vocab = load_vocabulary(name)
        return [vocab.names[i] for i in vocab.where(**cond)]
    if isinstance(spec, str):
        raise ValueError(f'novel_classes must be a list of names or a dict, got the string {spec!r}')
    names = [str(x) for x in spec]
    return names


def novel_mask(spec: NovelSpec, class_names: Sequence[str]) -> List[bool]:
    """``[C]`` booleans: True where ``class_names[i]`` is novel. Every novel name must be one of the
    classes (a typo would otherwise silently train on a "novel" class)."""
    novel = novel_names(spec)
    known = set(class_names)
    missing = [n for n in novel if n not in known]
    if missing:
        raise ValueError(f'{len(missing)} novel class name(s) are not in the vocabulary of {len(class_names)} '
                         f'classes: {missing[:5]}')
    novel_set = set(novel)
    return [n in novel_set for n in class_names]
