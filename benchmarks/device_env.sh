# Sourced by the *_device.sh scripts on a lent GPU machine: this package's source on PYTHONPATH, the
# wheels carried in .whl/ (the machine's python3 has torch, but not this package's scikit-image
# version, whose photos are the embedded data) installed beside it, and a `faig` command on PATH.
# A fresh checkout fetches that wheel (ignored by git, carried as ".whl") with
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_24_x86_64 --platform manylinux_2_28_x86_64 -d .whl scikit-image==0.26.0
if ls .whl/*.whl > /dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$PWD/src" PYTHONUNBUFFERED=1
mkdir -p /tmp/faig-bin
printf '#!/bin/sh\nexec python3 -c "import sys; from faig.cli import main; sys.exit(main())" "$@"\n' > /tmp/faig-bin/faig
chmod +x /tmp/faig-bin/faig
export PATH=/tmp/faig-bin:$PATH
