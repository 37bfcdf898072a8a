"""The machine the runs train on, for cache keys and reports."""
import os
import re
import subprocess
from typing import Any, Dict, Optional


def cpu_model_of(text: str) -> Optional[str]:
    """The CPU model named in ``/proc/cpuinfo`` or ``lscpu`` output.

    Example:
        >>> cpu_model_of('processor\\t: 0\\nmodel name\\t: AMD EPYC 7B13\\n')
        'AMD EPYC 7B13'
        >>> cpu_model_of('Model name:            Intel(R) Xeon(R)\\n')
        'Intel(R) Xeon(R)'
    """
    match = re.search(r'^\s*model name\s*:\s*(.+?)\s*$', text,
                      re.IGNORECASE | re.MULTILINE)
    return match.group(1) if match else None


def machine_info() -> Dict[str, Any]:
    """The CPU model, core counts, GPU and load of this machine."""
    cpu = None
    try:
        with open('/proc/cpuinfo') as f:
            cpu = cpu_model_of(f.read())
    except OSError:
        pass
    if cpu is None:
        try:
            cpu = cpu_model_of(
                subprocess.run(['lscpu'],
                               capture_output=True,
                               text=True,
                               timeout=10).stdout)
        except (OSError, subprocess.SubprocessError):
            pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    import torch
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() \
        else None
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = None
    return dict(
        cpu=cpu or 'unknown CPU',
        logical_cpus=os.cpu_count(),
        usable_cpus=usable,
        gpu=gpu,
        load=load)
