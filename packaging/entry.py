"""The packaged binary's entry point: `signalscope [--self-test | gui | headless | export ...]`."""

import sys


def main() -> int:
    if "--self-test" in sys.argv[1:]:
        from app.ui.selftest import run_self_test

        return run_self_test()
    from app.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    raise SystemExit(main())
