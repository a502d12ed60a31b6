"""The policy names the benchmark's Megatron server passes."""
import enum


class PrefixCachingCoordinatorPolicy(enum.Enum):
    LONGEST_PREFIX = "longest_prefix"
    FIRST_PREFIX_BLOCK = "first_prefix_block"
    LOAD_BALANCED = "load_balanced"
