"""The CPU pins that make one commit give one result on every x86-64 CPU with AVX2: set by importing
lstmops, before TensorFlow loads; a user's own values and LSTMOPS_CPU_KERNELS=native are kept."""

import json
import os
import subprocess
import sys

import pytest

from lstmops import CPU_KERNELS_ENV, CPU_PINS

SHOW = (
    "import json, os, lstmops; print(json.dumps({k: os.environ.get(k) for k in lstmops.CPU_PINS}))"
)


def _pins(**env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in CPU_PINS and k != CPU_KERNELS_ENV}
    out = subprocess.run(
        [sys.executable, "-c", SHOW],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def test_importing_lstmops_pins_tensorflows_cpu_kernels():
    assert _pins() == {"TF_ENABLE_ONEDNN_OPTS": "0", "ONEDNN_MAX_CPU_ISA": "AVX2"}


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({CPU_KERNELS_ENV: "native"}, {"TF_ENABLE_ONEDNN_OPTS": None, "ONEDNN_MAX_CPU_ISA": None}),
        ({"ONEDNN_MAX_CPU_ISA": "AVX512_CORE"}, {"TF_ENABLE_ONEDNN_OPTS": "0", "ONEDNN_MAX_CPU_ISA": "AVX512_CORE"}),
    ],
    ids=["native", "a user's own value"],
)  # fmt: skip
def test_the_pins_give_way_to_the_user(env, expected):
    assert _pins(**env) == expected
