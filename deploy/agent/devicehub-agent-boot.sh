#!/bin/sh
# Run by systemd before every start of the agent (ExecStartPre): the boot-try counter of a
# self-update, as Rockchip's updateEngine keeps one for boot_a/boot_b. The agent writes
# <slots>/boot-trial (holding the slot it came from) just before it switches `current` to its new
# bundle, and removes it once the new agent is healthy. If the file is still there at a start after
# the first try (the new agent crashed, hung past its watchdog or never got healthy), this puts
# `current` back on the old slot, with the same atomic rename the agent uses, before Node starts.
set -eu
SLOTS=${1:-/var/lib/devicehub-agent/slots}
TRIAL="$SLOTS/boot-trial"
[ -f "$TRIAL" ] || exit 0
if [ -f "$TRIAL.started" ]; then
  previous=$(cat "$TRIAL")
  case "$previous" in a | b) ;; *) echo "devicehub-agent-boot: bad $TRIAL" >&2; exit 0 ;; esac
  ln -sfn "$previous" "$SLOTS/current.boot.tmp"
  mv -T "$SLOTS/current.boot.tmp" "$SLOTS/current"
  mv "$TRIAL" "$SLOTS/boot-trial.failed"
  rm -f "$TRIAL.started"
  echo "devicehub-agent-boot: the new agent did not confirm its start; back on slot $previous" >&2
else
  : >"$TRIAL.started"
fi
