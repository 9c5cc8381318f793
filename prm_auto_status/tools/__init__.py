from . import benchmark_data
from . import benchmark_measure
