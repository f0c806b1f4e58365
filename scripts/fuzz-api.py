# schemathesis hooks for scripts/fuzz-api.mjs (loaded through SCHEMATHESIS_HOOKS).
#
# Random ids only ever reach "not found"; so that the handlers behind it run too, a path parameter the
# seeding has real values for (a project, a task, a blocker, a person — FUZZ_IDS) is, about half the time,
# replaced by one of them. The generated value is kept the other half, and always for the coverage phase's
# deliberately invalid values (it fuzzes what it draws, not what it was told).
import json
import os

import schemathesis
from hypothesis import strategies as st

IDS = {name: values for name, values in json.loads(os.environ.get("FUZZ_IDS", "{}")).items() if values}


@schemathesis.hook
def flatmap_path_parameters(context, path_parameters):
    if not path_parameters:
        return st.just(path_parameters)
    names = [name for name in path_parameters if name in IDS]
    if not names:
        return st.just(path_parameters)
    real = st.fixed_dictionaries({name: st.sampled_from(IDS[name]) for name in names}).map(
        lambda chosen: {**path_parameters, **chosen}
    )
    return st.one_of(st.just(path_parameters), real)
