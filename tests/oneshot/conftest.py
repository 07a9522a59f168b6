"""One thread per test process: the loop tests train small networks, where more threads only contend."""
import torch

torch.set_num_threads(1)
