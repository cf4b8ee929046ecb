"""Class-name vocabularies that ship with clipself: COCO, COCO panoptic, OV-COCO, LVIS v1, or a text file.

    vocab = load_vocabulary('lvis')           # or 'coco', 'coco-panoptic', 'ov-coco', 'my_classes.txt', 'ann.json'
    vocab.names          # canonical dataset names, e.g. 'bolt_(for_a_door)' (match the annotation files)
    vocab.ids            # dataset category ids, e.g. COCO's 1..90 (not contiguous)
    vocab.display_names  # names for prompts, e.g. 'bolt'
    vocab.where(frequency='r')                # indices of the LVIS rare (novel) classes

The data live in ``vocab/*.json`` beside this module, one file per vocabulary, categories in id order.
"""
import json
import os
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

VOCAB_DIR = Path(__file__).parent / 'vocab'

# canonical name -> json file in VOCAB_DIR; aliases are matched case-insensitively, '_' == '-'
BUILTIN = {'coco': 'coco.json', 'coco-panoptic': 'coco-panoptic.json', 'ov-coco': 'ov-coco.json',
           'lvis': 'lvis.json'}
ALIASES = {'coco-detection': 'coco', 'coco-det': 'coco', 'coco-instances': 'coco', 'lvis-v1': 'lvis',
           'lvisv1': 'lvis', 'ovcoco': 'ov-coco', 'coco-ov': 'ov-coco', 'coco-pan': 'coco-panoptic',
           'cocopanoptic': 'coco-panoptic'}

# per-class optional fields (json key -> Vocabulary field); every category of a file has all or none
OPTIONAL_FIELDS = ('isthing', 'frequency', 'split', 'synonyms', 'synset')
_PANOPTIC_SUFFIXES = ('-merged', '-other', '-stuff')


def display_name(name: str, *, keep_parenthetical: bool = False) -> str:
    """A class name as it should read in a prompt (the canonical name is left alone elsewhere).

    - LVIS: ``'bolt_(for_a_door)' -> 'bolt'``; ``'Band_Aid' -> 'Band Aid'`` (underscores -> spaces;
      parenthetical qualifiers are dropped unless ``keep_parenthetical``, then ``'bolt (for a door)'``).
    - COCO panoptic: ``'wall-other-merged' -> 'wall'``, ``'door-stuff' -> 'door'``,
      ``'window-blind' -> 'window blind'`` (the ``-merged``/``-other``/``-stuff`` suffixes dropped,
      then the hyphens of a lower-case hyphenated single word -> spaces: also LVIS ``'bow-tie'``;
      ``'ping-pong_ball' -> 'ping-pong ball'`` keeps its hyphen).
    - Objects365-style ``'a/b' -> 'a or b'``; trailing dots and extra whitespace removed.
    Case is kept (CLIP's tokenizer lower-cases anyway). Idempotent.
    """
    s = name.strip()
    if not keep_parenthetical:
        stripped = re.sub(r'_*\s*\([^()]*\)\s*_*', ' ', s)  # 'bolt_(for_a_door)' -> 'bolt '
        s = stripped if stripped.strip('_ ') else s
    if not re.search(r'[_\s]', s):  # a panoptic-style single token: 'sky-other-merged', 'window-blind'
        changed = True
        while changed:
            changed = False
            for suffix in _PANOPTIC_SUFFIXES:
                if s.endswith(suffix) and len(s) > len(suffix):
                    s, changed = s[:-len(suffix)], True
        if re.fullmatch(r'[a-z]+(-[a-z]+)+', s):
            s = s.replace('-', ' ')
    s = s.replace('_', ' ').replace('/', ' or ').rstrip('.')
    return ' '.join(s.split())


@dataclass(frozen=True)
class Vocabulary:
    """An ordered list of classes: index ``i`` of a classifier output is class ``names[i]``.

    Args:
        name: the vocabulary's name (``'coco'``, ``'lvis'``, ...) or the file it was read from.
        names: canonical class names, as in the dataset's annotation file.
        ids: the dataset's category ids (COCO: 1..90 with gaps; LVIS: 1..1203; a text file: 0..N-1).
        isthing: COCO panoptic: True for the 80 thing classes, False for the 53 stuff classes.
        frequency: LVIS: ``'r'`` (rare, 1-10 training images), ``'c'`` (common), ``'f'`` (frequent).
        split: OV-COCO: ``'base'`` (48, trained on) or ``'novel'`` (17, held out).
        synonyms: LVIS: the synonym list of each class (first entry is the name).
        synset: LVIS: the WordNet synset of each class.
    """
    name: str
    names: List[str]
    ids: List[int]
    isthing: Optional[List[bool]] = None
    frequency: Optional[List[str]] = None
    split: Optional[List[str]] = None
    synonyms: Optional[List[List[str]]] = None
    synset: Optional[List[str]] = None

    def __post_init__(self):
        n = len(self.names)
        if n == 0:
            raise ValueError(f'vocabulary {self.name!r} has no classes')
        if len(self.ids) != n:
            raise ValueError(f'vocabulary {self.name!r}: {n} names but {len(self.ids)} ids')
        for f in OPTIONAL_FIELDS:
            values = getattr(self, f)
            if values is not None and len(values) != n:
                raise ValueError(f'vocabulary {self.name!r}: {n} names but {len(values)} {f!r} values')
        if len(set(self.ids)) != n:
            raise ValueError(f'vocabulary {self.name!r}: duplicate category ids')
        dup = sorted({x for x in self.names if self.names.count(x) > 1}) if len(set(self.names)) != n else []
        if dup:
            raise ValueError(f'vocabulary {self.name!r}: duplicate class names {dup[:5]}')
        if any(not isinstance(x, str) or not x.strip() for x in self.names):
            raise ValueError(f'vocabulary {self.name!r}: empty class name')

    def __len__(self) -> int:
        return len(self.names)

    @property
    def display_names(self) -> List[str]:
        """Names for prompts (see :func:`display_name`). A parenthetical qualifier is kept where
        dropping it would make two classes read the same (LVIS ``'bow (weapon)'`` vs
        ``'bow (decorative ribbons)'``), so the prompts of different classes stay different."""
        short = [display_name(x) for x in self.names]
        counts: Dict[str, int] = {}
        for s in short:
            counts[s.lower()] = counts.get(s.lower(), 0) + 1
        return [display_name(x, keep_parenthetical=True) if counts[s.lower()] > 1 else s
                for x, s in zip(self.names, short)]

    @property
    def id_to_index(self) -> Dict[int, int]:
        """Dataset category id -> index into :attr:`names` (e.g. COCO id 90 -> 79)."""
        return {cid: i for i, cid in enumerate(self.ids)}

    def where(self, **conditions) -> List[int]:
        """Indices of the classes whose fields equal the given values, e.g. ``where(frequency='r')``,
        ``where(split='novel')``, ``where(isthing=False)``."""
        out = list(range(len(self)))
        for key, value in conditions.items():
            if key not in OPTIONAL_FIELDS or key in ('synonyms',):
                raise ValueError(f'cannot select on {key!r}; use one of isthing, frequency, split, synset')
            values = getattr(self, key)
            if values is None:
                raise ValueError(f'vocabulary {self.name!r} has no {key!r} field')
            out = [i for i in out if values[i] == value]
        return out

    def subset(self, indices: Sequence[int], *, name: Optional[str] = None) -> 'Vocabulary':
        """A new vocabulary with the classes at ``indices`` (in that order), all fields kept."""
        idx = [int(i) for i in indices]
        kw = {f.name: [getattr(self, f.name)[i] for i in idx] for f in fields(self)
              if f.name not in ('name',) and getattr(self, f.name) is not None}
        return Vocabulary(name=name or self.name, **kw)


def check_same_names(found: Sequence[str], expected: Sequence[str], *, source: str, where: str,
                     what: Sequence[str] = ('class', 'classes'), rule: str = '') -> None:
    """Raise ``ValueError`` naming the first difference between the name lists ``found`` (read from ``source``) and
    ``expected`` (those of ``where``): their lengths, else the first index that differs. ``what``: the singular and
    plural of what the names are; ``rule``: what their order must follow (appended in brackets)."""
    found, expected = list(found), list(expected)
    if found == expected:
        return
    if len(found) != len(expected):
        raise ValueError(f'{source} has {len(found)} {what[1]} but {where} has {len(expected)}')
    i = next(i for i, (a, b) in enumerate(zip(found, expected)) if a != b)
    raise ValueError(f'{source}: {what[0]} {i} is {found[i]!r} but {where} has {expected[i]!r}'
                     + (f' ({rule})' if rule else ''))


def list_vocabularies() -> List[str]:
    """Names accepted by :func:`load_vocabulary` besides a ``.txt`` path."""
    return list(BUILTIN)


def _builtin_key(name: str) -> Optional[str]:
    key = name.strip().lower().replace('_', '-')
    key = ALIASES.get(key, key)
    return key if key in BUILTIN else None


def vocabulary_from_categories(categories: Sequence[dict], name: str, *, sort_by_id: bool = False) -> Vocabulary:
    """A :class:`Vocabulary` from COCO-style ``categories`` entries (``id``, ``name`` and the optional fields);
    ``sort_by_id``: in category-id order (the label order of the datasets), else in the given order."""
    cats = sorted(categories, key=lambda c: int(c['id'])) if sort_by_id else list(categories)
    kw = {'names': [c['name'] for c in cats], 'ids': [int(c['id']) for c in cats]}
    for key in OPTIONAL_FIELDS:
        present = [key in c for c in cats]
        if any(present):
            if not all(present):
                raise ValueError(f'{name}: some categories lack {key!r}')
            kw[key] = [c[key] for c in cats]
    return Vocabulary(name=name, **kw)


def _from_json(path: Path, name: str, *, sort_by_id: bool = False) -> Vocabulary:
    with open(path, encoding='utf-8') as f:
        data = json.load(f)
    if not isinstance(data, dict) or not isinstance(data.get('categories'), list):
        raise ValueError(f'{path}: no "categories" list (expected a COCO-style json)')
    return vocabulary_from_categories(data['categories'], name, sort_by_id=sort_by_id)


def _from_txt(path: Path) -> Vocabulary:
    """One class name per line; blank lines and lines starting with '#' are skipped."""
    with open(path, encoding='utf-8') as f:
        lines = [line.strip() for line in f]
    names = [x for x in lines if x and not x.startswith('#')]
    if not names:
        raise ValueError(f'{path}: no class names (expected one class name per line)')
    seen, dup = set(), []
    for x in names:
        if x in seen:
            dup.append(x)
        seen.add(x)
    if dup:
        raise ValueError(f'{path}: duplicate class names {dup[:5]}')
    return Vocabulary(name=str(path), names=names, ids=list(range(len(names))))


def load_vocabulary(name: Union[str, os.PathLike]) -> Vocabulary:
    """Load a vocabulary by name or from a text file.

    Args:
        name: ``'coco'`` (80 detection classes), ``'coco-panoptic'`` (133: 80 things + 53 stuff),
            ``'ov-coco'`` (65: 48 base + 17 novel), ``'lvis'`` (LVIS v1, 1203: 337 r / 461 c / 405 f), or
            the path of a ``.txt`` file with one class name per line (ids are then 0..N-1), or of a COCO-style
            ``.json`` (its ``categories``, in category-id order: e.g. the nouns of a pseudo-labelled box file).
    Raises:
        ValueError: an unknown name, or an empty / malformed file. FileNotFoundError: a missing file.
    """
    if not isinstance(name, (str, os.PathLike)):
        raise TypeError(f'load_vocabulary expects a name or a path, got {type(name).__name__}')
    s = os.fspath(name)
    key = _builtin_key(s) if isinstance(name, str) else None
    if key is not None and not os.path.isfile(s):
        return _from_json(VOCAB_DIR / BUILTIN[key], key)
    path = Path(s)
    if path.suffix.lower() == '.json':
        if not path.is_file():
            raise FileNotFoundError(f'annotation file {s} not found')
        return _from_json(path, s, sort_by_id=True)
    if path.suffix.lower() == '.txt':
        if not path.is_file():
            raise FileNotFoundError(f'class-name file {s} not found')
        return _from_txt(path)
    raise ValueError(f'unknown vocabulary {s!r}: use one of {", ".join(BUILTIN)}, the path of a .txt file '
                     'with one class name per line, or of a COCO-style .json with "categories"')
