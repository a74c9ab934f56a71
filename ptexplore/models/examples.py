"""Built-in example models, the ones classrooms and tutorials use to teach module APIs."""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn


class Model(nn.Module):
    """The classic teaching model: two convs, a max-pool, and a named ``features`` block."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3)
        self.conv2 = nn.Conv2d(64, 64, 3)
        self.maxpool1 = nn.MaxPool2d(2, 2)
        self.features = nn.Sequential(
            OrderedDict(
                [
                    ("conv3", nn.Conv2d(64, 128, 3)),
                    ("conv4", nn.Conv2d(128, 128, 3)),
                    ("relu1", nn.ReLU()),
                ]
            )
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        x = self.conv2(x)
        x = self.maxpool1(x)
        return self.features(x)


class Net(nn.Module):
    """A small multilayer perceptron: ``Net(n_feature=2, n_hidden=5, n_output=3)``."""

    def __init__(self, n_feature: int = 2, n_hidden: int = 5, n_output: int = 3) -> None:
        super().__init__()
        self.hidden1 = nn.Linear(n_feature, n_hidden)
        self.hidden2 = nn.Linear(n_hidden, n_hidden)
        self.predict = nn.Linear(n_hidden, n_output)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.hidden1(x))
        x = torch.relu(self.hidden2(x))
        return self.predict(x)


class SmallVGG(nn.Module):
    """A VGG-style net whose convs live in a ``vgg`` Sequential (names read ``vgg.0.weight``)."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.vgg = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(32, 32, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(64, 64, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        )
        self.pool = nn.AdaptiveAvgPool2d((4, 4))
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(64 * 4 * 4, 128),
            nn.ReLU(inplace=True),
            nn.Dropout(0.5),
            nn.Linear(128, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.vgg(x)))


class SharedLayerNet(nn.Module):
    """One ``Linear`` registered under two names: ``modules()`` yields it only once."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Linear(8, 8)
        self.block = nn.Sequential(nn.ReLU(), nn.Linear(8, 8))
        self.tied = self.embed  # the same module object, a second attribute name
        self.head = nn.Linear(8, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.embed(x)
        x = self.block(x)
        x = self.tied(x)
        return self.head(x)
