"""Models the tests register by import path (``tests.fixture_models:TinyNet``), as an
operator would with ``--model``: a class with ``num_classes``, a factory, one that needs a
non-square input, a token model with ``example_input()``, and ones that fail."""

from __future__ import annotations

import torch
from torch import nn


class TinyNet(nn.Module):
    """A tiny CNN: one conv, global pooling and a classifier."""

    def __init__(self, num_classes: int = 10, width: int = 8) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, width, 3, padding=1)
        self.relu = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(self.relu(self.conv(x))).flatten(1))


class FixedInput(nn.Module):
    """Needs exactly a 2×16×32 input (its classifier has a fixed size)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3)
        self.fc = nn.Linear(4 * 14 * 30, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.conv(x).flatten(1))


class TokenNet(nn.Module):
    """Token ids → embedding → self-attention → 3 classes."""

    def __init__(self, vocab: int = 100, dim: int = 16, seq: int = 12) -> None:
        super().__init__()
        self.seq = seq
        self.emb = nn.Embedding(vocab, dim)
        self.attn = nn.MultiheadAttention(dim, 2, batch_first=True)
        self.head = nn.Linear(dim, 3)

    def example_input(self) -> torch.Tensor:
        return torch.randint(0, 100, (2, self.seq))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.emb(ids)
        x, _ = self.attn(x, x, x)
        return self.head(x.mean(1))


def make_mlp(depth: int = 2, hidden: int = 32) -> nn.Sequential:
    """An MLP from 20 features to 2, built by a factory function."""
    layers: list[nn.Module] = [nn.Linear(20, hidden), nn.ReLU()]
    for _ in range(depth - 1):
        layers += [nn.Linear(hidden, hidden), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(hidden, 2))


class Exploding(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        raise ValueError("**this constructor** always fails: [a link](http://example.com)")


def not_a_module() -> int:
    return 42


class NotAModule:
    pass


NOT_CALLABLE = 3
