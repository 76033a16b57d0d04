#!/usr/bin/env python3
"""Holds src/ to its layers. Each folder under src/ is a component whose
README.md says which components it uses ("Uses: core, net.") and which of its
headers others may include ("Public headers ...: `a.h`, `b.h`."). A component
that includes a header of a component it does not use, or an internal header
of one it does, fails this check, naming the file and line.

    python3 tests/layers/check_layers.py [SRC_DIR]
"""
import os
import re
import sys


def read_component(folder):
    text = open(os.path.join(folder, "README.md")).read()
    uses = re.search(r"^Uses: (.*)\.$", text, re.M)
    public = re.search(r"^Public headers[^:]*:(.*)$", text, re.M)
    if not uses or not public:
        raise SystemExit("%s/README.md: needs a 'Uses:' line and a 'Public headers' line" % folder)
    # "core, net" names components; prose ("nothing but the standard library") does not.
    used = {u.strip() for u in uses.group(1).split(",") if re.fullmatch(r"\s*[a-z]+\s*", u)}
    return used, set(re.findall(r"`([a-z0-9_]+\.h)`", public.group(1)))


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "src")
    comps = sorted(d for d in os.listdir(src) if os.path.isdir(os.path.join(src, d)))
    layers = {c: read_component(os.path.join(src, c)) for c in comps}
    errors = []
    for comp in comps:
        used, _ = layers[comp]
        for u in used:
            if u not in layers:
                errors.append("src/%s/README.md: uses unknown component %s" % (comp, u))
        for name in sorted(os.listdir(os.path.join(src, comp))):
            if not name.endswith((".h", ".cc")):
                continue
            path = os.path.join(src, comp, name)
            for n, line in enumerate(open(path), 1):
                m = re.match(r'\s*#\s*include\s+"([a-z_]+)/([A-Za-z0-9_]+\.h)"', line)
                if not m or m.group(1) == comp:
                    continue
                other, header = m.group(1), m.group(2)
                if other not in layers:
                    continue  # not a component (e.g. a generated header)
                where = "src/%s/%s:%d" % (comp, name, n)
                if other not in used:
                    errors.append("%s: %s does not use %s (its README says: %s)"
                                  % (where, comp, other, ", ".join(sorted(used)) or "nothing"))
                elif header not in layers[other][1]:
                    errors.append("%s: %s/%s is internal to %s" % (where, other, header, other))
    for e in errors:
        print(e)
    print("%d passed, %d failed" % (len(comps), len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
