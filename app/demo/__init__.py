"""Demo data: a small organisation, and the quality loop on top of it at any scale."""

from app.demo.organisation import DemoAlreadySeeded, seed_demo_data
from app.demo.quality_loop import LoopSeedResult, seed_quality_loop

__all__ = ["DemoAlreadySeeded", "LoopSeedResult", "seed_demo_data", "seed_quality_loop"]
