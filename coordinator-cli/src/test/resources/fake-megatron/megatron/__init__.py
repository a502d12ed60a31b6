"""A test fixture standing in for Megatron-LM (see core/inference/data_parallel_inference_coordinator.py)."""
