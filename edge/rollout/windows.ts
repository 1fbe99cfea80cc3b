/**
 * Maintenance windows in a building's local time: whether `now` falls in one of the windows, in
 * the member's IANA time zone (Intl.DateTimeFormat: the runtime's time-zone data, daylight saving
 * included; no library). A window whose end is before its start runs past midnight and belongs to
 * the day it starts on.
 */
import type { MaintenanceWindow } from './spec.ts';

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** Weekday (0 = Sunday) and minute of the day at `now` in `timeZone`. */
export function localTime(now: number, timeZone: string): { day: number; minute: number } {
  let format = formatters.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, format);
  }
  let day = 0;
  let hour = 0;
  let minute = 0;
  for (const part of format.formatToParts(now)) {
    if (part.type === 'weekday') day = WEEKDAYS[part.value] ?? 0;
    else if (part.type === 'hour') hour = Number(part.value);
    else if (part.type === 'minute') minute = Number(part.value);
  }
  return { day, minute: hour * 60 + minute };
}

const knownZones = new Set<string>(['UTC']);

/** Whether the zone is one the runtime knows (remembered: a formatter costs a third of a millisecond). */
export function isTimeZone(timeZone: string): boolean {
  if (knownZones.has(timeZone)) return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    return false;
  }
  knownZones.add(timeZone);
  return true;
}

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Whether `now` is inside one of `windows` in `timeZone` (no windows: always). */
export function inMaintenanceWindow(
  windows: readonly MaintenanceWindow[] | undefined,
  timeZone: string,
  now: number,
): boolean {
  if (windows === undefined || windows.length === 0) return true;
  const { day, minute } = localTime(now, timeZone);
  const yesterday = (day + 6) % 7;
  return windows.some((w) => {
    const start = minutes(w.start);
    const end = minutes(w.end);
    const on = (d: number) => w.days === undefined || w.days.includes(d);
    if (start < end) return on(day) && minute >= start && minute < end;
    // Past midnight: the evening part today, or the morning part of the window that began yesterday.
    return (on(day) && minute >= start) || (on(yesterday) && minute < end);
  });
}
