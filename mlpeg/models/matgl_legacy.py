"""Run matgl checkpoints trained before matgl 2.2.0 changed its aggregation convention.

Up to matgl 2.1.2, two layers summed their per-edge messages onto each edge's
*destination* atom; from 2.2.0 on (and in the unified 4.x code) they sum onto the
*source* atom. A directed edge ``i -> j`` exists in both directions, so the sum runs over
the same neighbours either way, but the message for the receiving atom is built from the
two atoms' features concatenated in the opposite order, which changes everything unless
both atoms are of one element. matgl bumped TensorNet's ``__version__`` from 1 to 2 for
this, and did not bump M3GNet's.

- TensorNet's pair embedding: ``emb2`` (a ``Linear(2 * units, units)``) reads
  ``[neighbour, self]`` under the old convention and ``[self, neighbour]`` under the new
  one. Swapping the two halves of its input columns is an exact reparametrisation, so the
  old checkpoint runs unchanged in matgl 4.x's TensorNet (PyG or warp kernels alike).
- M3GNet's node update: the gated MLP's input is ``[v_src, v_dst, e_src->dst]`` in both
  conventions, but the message went to ``dst`` then and goes to ``src`` now, and the edge
  features it carries hold three-body terms centred on the edge's source atom, so no
  permutation of weights restores it. :class:`DestinationM3GNetGraphConv` is matgl's
  graph convolution with the node update summed onto destination atoms again.

Checked against matgl 2.1.2 itself (TensorNet on its PyG backend, M3GNet on DGL 2.1.0):
energies within 0.001 meV/atom (TensorNet) and 0.07 meV/atom (M3GNet), forces within
0.005 and 0.9 meV/Å, on rattled LiCl, NaCl, MgO and ethanol.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

import torch
from matgl.layers import M3GNetGraphConv

from mlpeg.errors import ConfigError

#: Where per-edge messages are summed: ``destination`` (matgl <= 2.1.2) or ``source``.
Aggregation = Literal["destination", "source"]
#: The conventions by name (``mlpeg.models.matgl`` checks options against the same two).
AGGREGATIONS: tuple[str, ...] = get_args(Aggregation)


class DestinationM3GNetGraphConv(M3GNetGraphConv):
    """matgl's M3GNet graph convolution whose node update sums onto edge destinations."""

    def node_update_(
        self,
        edge_index: torch.Tensor,
        edge_feat: torch.Tensor,
        node_feat: torch.Tensor,
        rbf: torch.Tensor,
        u_per_edge: torch.Tensor | None,
        num_nodes: int,
    ) -> torch.Tensor:
        """Return each atom's node update: the messages of the edges that end on it."""
        src, dst = edge_index[0], edge_index[1]
        parts = [node_feat[src], node_feat[dst], edge_feat]
        if self.include_state:
            if u_per_edge is None:
                raise ValueError("M3GNet with include_state needs per-edge state features.")
            parts.append(u_per_edge)
        message = self.node_update_func(torch.hstack(parts)) * self.node_weight_func(rbf)
        summed = message.new_zeros(num_nodes, message.shape[1])
        return summed.index_add_(0, dst.long(), message)

    @classmethod
    def from_conv(cls, conv: M3GNetGraphConv) -> DestinationM3GNetGraphConv:
        """Build one sharing ``conv``'s modules (and so its loaded weights)."""
        return cls(
            conv.include_state,
            conv.edge_update_func,
            conv.edge_weight_func,
            conv.node_update_func,
            conv.node_weight_func,
            conv.state_update_func,
        )


def swap_pair_embedding(model: Any) -> None:
    """Swap the halves of TensorNet's pair-embedding input columns (in place)."""
    weight = model.tensor_embedding.emb2.weight
    half = weight.shape[1] // 2
    with torch.no_grad():
        weight.copy_(torch.cat([weight[:, half:], weight[:, :half]], dim=1))


def aggregate_on_destination(model: Any) -> None:
    """Make every M3GNet block sum its node updates onto edge destinations (in place)."""
    for block in model.graph_layers:
        block.conv = DestinationM3GNetGraphConv.from_conv(block.conv)


def apply(potential: Any, aggregation: Aggregation) -> None:
    """Make a loaded matgl ``Potential`` compute as a model trained with ``aggregation``.

    Raises
    ------
    ConfigError
        If ``aggregation`` is unknown, or is ``destination`` for a model other than
        TensorNet and M3GNet (mlpeg knows the old convention of those two only).
    """
    if aggregation not in AGGREGATIONS:
        raise ConfigError(
            f"matgl options.aggregation must be one of {AGGREGATIONS}, not '{aggregation}'."
        )
    if aggregation == "source":
        return
    kind = type(potential.model).__name__
    if kind == "TensorNet":
        swap_pair_embedding(potential.model)
    elif kind == "M3GNet":
        aggregate_on_destination(potential.model)
    else:
        raise ConfigError(
            f"matgl aggregation 'destination' is known for TensorNet and M3GNet, not {kind}."
        )
