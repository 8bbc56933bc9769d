"""Word features beside a transformer: the shape and affixes an uncased vocabulary loses, mixed into its token vectors.

all-MiniLM-L6-v2's vocabulary is lower-cased, so "Bush" and "bush" are one word piece to
it. The CNN encoder sees case through its SHAPE, PREFIX and SUFFIX hash embeddings. This
layer puts a small MultiHashEmbed of those attributes beside a transformer listener's
output, and a Maxout layer mixes the two into token vectors for the component's model.
"""

# No `from __future__ import annotations`: confection validates the architecture's
# arguments against these type hints, which must be real types, not strings.

from typing import Callable, List, Tuple

from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Maxout, Model, chain, with_array
from thinc.types import Floats2d


@registry.architectures("workbench.ListenerWithWordFeatures.v1")
def listener_with_word_features(
    listener: Model[List[Doc], List[Floats2d]],
    features: Model[List[Doc], List[Floats2d]],
    width: int,
    maxout_pieces: int = 3,
    dropout: float = 0.0,
) -> Model[List[Doc], List[Floats2d]]:
    """Per token: Maxout(listener's vector ++ the features' vector), `width` wide."""
    mix = with_array(Maxout(nO=width, nP=maxout_pieces, dropout=dropout, normalize=True))
    return chain(side_by_side(listener, features), mix)


def side_by_side(listener: Model, features: Model) -> Model[List[Doc], List[Floats2d]]:
    """Both layers' token vectors, concatenated per token.

    Not thinc's `concatenate`, which adds the layers' input gradients together: a
    transformer listener hands its gradient upstream and returns None until every listener
    of the transformer has given it one.
    """
    return Model("side_by_side", _side_by_side_forward, init=_side_by_side_init, layers=[listener, features])


def _side_by_side_init(model: Model, X: List[Doc] | None = None, Y=None) -> None:
    for layer in model.layers:
        layer.initialize(X=X)


def _side_by_side_forward(model: Model, docs: List[Doc], is_train: bool) -> Tuple[List[Floats2d], Callable]:
    listener, features = model.layers
    first, backprop_first = listener(docs, is_train)
    second, backprop_second = features(docs, is_train)
    xp = model.ops.xp
    width = first[0].shape[1] if first else 0

    def backprop(d_outputs: List[Floats2d]) -> List[Doc]:
        backprop_second([xp.ascontiguousarray(d[:, width:]) for d in d_outputs])
        backprop_first([xp.ascontiguousarray(d[:, :width]) for d in d_outputs])
        return []

    return [xp.hstack((a, b)) for a, b in zip(first, second)], backprop
