#!/usr/bin/env bash
# Tests the Python package as a user gets it: builds the wheel, installs it in a new virtual environment, runs the
# pytest suite from outside the source tree, then scim2-tester against the example (`python -m scimkit.example`).
# Exits non-zero on any failure.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
bash bindings/python/build.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
py="$work/venv/bin/python"
"$py" -m pip install --quiet dist/out/scimkit-*-py3-none-any.whl pytest -r tests/conformance/requirements.txt
cp -r bindings/python/tests "$work/tests"
(cd "$work" && "$py" -m pytest -q -p no:cacheprovider tests)
SCIMKIT_PYTHON="$py" "$py" tests/conformance/run.py --python
