"""A free TCP port for torchrun's rendezvous, so concurrent test runs on one machine do not collide."""
import socket


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]
