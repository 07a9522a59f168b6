"""The searcher ``demo_first``: random architectures, never one twice (a plug-in searcher)."""
from nasl.searchers import Exhausted, Searcher, register_searcher


@register_searcher("demo_first", example={"tries": 50})
class FirstThenRandom(Searcher):
    """Random draws, never one twice (a plug-in searcher)."""

    def __init__(self, spec, seed=None, *, tries: int = 200, **kw):
        super().__init__(spec, seed, **kw)
        self.tries = tries
        self.seen = set()

    def _propose(self):
        from nasl.searchers.walks import sample
        for _ in range(self.tries):
            arch = sample(self.spec, self.rng)
            if arch.id not in self.seen:
                self.seen.add(arch.id)
                return arch
        raise Exhausted("demo_first found no new architecture")

    def _feedback(self, arch, result):
        self.seen.add(arch.id)

    def _get_state(self):
        return sorted(self.seen)

    def _set_state(self, state):
        self.seen = set(state)
