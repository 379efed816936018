#!/usr/bin/env bash
set -euo pipefail

case "${1:-}" in
  install|upgrade)
    echo "${2:-Hello}, world"
    # The token is a credential: porter masks it in everything it shows.
    if [ -n "${3:-}" ]; then echo "signed in with $3"; fi
    echo "greeted world" ;;
  status) echo "this bundle greets the world" ;;
  uninstall) echo "Goodbye, world" ;;
  *) echo "usage: $0 install|upgrade GREETING|status|uninstall" >&2; exit 2 ;;
esac
