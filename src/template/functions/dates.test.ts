/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go templates */
// Sprig's date functions and Go's time package as ../time/ writes it. Date and duration
// expectations were produced by Go 1.26's time package (test/reference/go-time/main.go,
// `go run .`), not by this code.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderKeyed as render } from '../../../test/support/template-render.ts';
import { durationString, parseDuration, roundDuration } from '../time/duration.ts';
import { inLocation } from '../time/go-time.ts';
import { parseTime } from '../time/parse.ts';

const T = '2009-11-10T23:04:05.123456789Z';
const at = `(toDate "2006-01-02T15:04:05.999999999Z07:00" "${T}")`;

describe('dates (Go layouts)', () => {
  it.each([
    ['-0700 -07:00 -07 Z0700 Z07:00', '+0000 +00:00 +00 Z Z'],
    ['002 __2', '314 314'],
    ['05.9', '05.1'],
    ['06 1 2 3 4 5', '09 11 10 11 4 5'],
    ['15:04:05.000', '23:04:05.123'],
    ['15:04:05.999999999', '23:04:05.123456789'],
    ['2006-01-02', '2009-11-10'],
    ['2006-01-02 15:04:05.999999999 -0700 MST', '2009-11-10 23:04:05.123456789 +0000 UTC'],
    ['2006-01-02T15:04:05.999999999Z07:00', '2009-11-10T23:04:05.123456789Z'],
    ['2006-01-02T15:04:05Z07:00', '2009-11-10T23:04:05Z'],
    ['3:04PM', '11:04PM'],
    ['January 2, 2006 at 3:04pm (MST)', 'November 10, 2009 at 11:04pm (UTC)'],
    ['Mon Jan _2 15:04:05 MST 2006', 'Tue Nov 10 23:04:05 UTC 2009'],
    ['Mon Monday Jan January _2 02 2', 'Tue Tuesday Nov November 10 10 10'],
    ['Monday, 02-Jan-06 15:04:05 MST', 'Tuesday, 10-Nov-09 23:04:05 UTC'],
  ])('date %j formats as Go does', (layout, want) => {
    expect(render(`{{ ${at} | date ${JSON.stringify(layout)} }}`)).toBe(want);
  });

  it('prints a time.Time as Go does, and the zero time for a toDate that fails', () => {
    expect(render(`{{ ${at} }}`)).toBe('2009-11-10 23:04:05.123456789 +0000 UTC');
    expect(render('{{ toDate "2006-01-02" "not a date" }}')).toBe('0001-01-01 00:00:00 +0000 UTC');
  });

  it.each([
    ['America/New_York', 'T', '2006-01-02T15:04:05 -0700 MST', '2009-11-10T18:04:05 -0500 EST'],
    ['America/New_York', 1720000000, '2006-01-02T15:04:05 -07:00 MST', '2024-07-03T05:46:40 -04:00 EDT'],
    ['America/Sao_Paulo', 'T', '2006-01-02T15:04:05 -0700 MST', '2009-11-10T21:04:05 -0200 -02'],
    ['America/Sao_Paulo', 1720000000, '2006-01-02T15:04:05 -07:00 MST', '2024-07-03T06:46:40 -03:00 -03'],
    ['Asia/Kolkata', 'T', '2006-01-02T15:04:05 -0700 MST', '2009-11-11T04:34:05 +0530 IST'],
    ['Asia/Kolkata', 1720000000, '2006-01-02T15:04:05 -07:00 MST', '2024-07-03T15:16:40 +05:30 IST'],
    ['Asia/Tokyo', 'T', '2006-01-02T15:04:05 -0700 MST', '2009-11-11T08:04:05 +0900 JST'],
    ['Asia/Tokyo', 1720000000, '2006-01-02T15:04:05 -07:00 MST', '2024-07-03T18:46:40 +09:00 JST'],
    ['Australia/Adelaide', 'T', '2006-01-02T15:04:05 -0700 MST', '2009-11-11T09:34:05 +1030 ACDT'],
    ['Australia/Adelaide', 1720000000, '2006-01-02T15:04:05 -07:00 MST', '2024-07-03T19:16:40 +09:30 ACST'],
    ['Europe/Berlin', 'T', '2006-01-02T15:04:05 -0700 MST', '2009-11-11T00:04:05 +0100 CET'],
    ['Europe/Berlin', 1720000000, '2006-01-02T15:04:05 -07:00 MST', '2024-07-03T11:46:40 +02:00 CEST'],
    ['Nope/Zone', 'T', '2006-01-02T15:04:05 -0700 MST', '2009-11-10T23:04:05 +0000 UTC'],
    ['Nope/Zone', 1720000000, '2006-01-02T15:04:05 -07:00 MST', '2024-07-03T09:46:40 +00:00 UTC'],
    ['UTC', 'T', '2006-01-02T15:04:05 -0700 MST', '2009-11-10T23:04:05 +0000 UTC'],
    ['UTC', 1720000000, '2006-01-02T15:04:05 -07:00 MST', '2024-07-03T09:46:40 +00:00 UTC'],
  ])('dateInZone %s at %s', (zone, when, layout, want) => {
    const t = when === 'T' ? at : String(when);
    expect(render(`{{ dateInZone ${JSON.stringify(layout)} ${t} ${JSON.stringify(zone)} }}`)).toBe(want);
  });

  it.each([
    ['02/01/06 15:04 MST', '05/07/99 12:30 UTC', '1999-07-05 12:30:00 +0000 UTC', '931177800'],
    ['2006-01-02 15:04:05', '2024-03-10 01:02:03.5', '2024-03-10 01:02:03.5 +0000 UTC', '1710032523'],
    ['2006-01-02', '2023-02-29', '0001-01-01 00:00:00 +0000 UTC', undefined],
    ['2006-01-02', '2024-02-29', '2024-02-29 00:00:00 +0000 UTC', '1709164800'],
    ['2006-01-02', '2024-13-01', '0001-01-01 00:00:00 +0000 UTC', undefined],
    [
      '2006-01-02T15:04:05.999999999Z07:00',
      '2024-01-01T00:00:00.000000001-08:00',
      '2024-01-01 00:00:00.000000001 -0800 -0800',
      '1704096000',
    ],
    ['2006-01-02T15:04:05Z07:00', '2024-03-10T01:02:03+05:30', '2024-03-10 01:02:03 +0530 +0530', '1710012723'],
    ['2006-01-02T15:04:05Z07:00', '2024-03-10T01:02:03Z', '2024-03-10 01:02:03 +0000 UTC', '1710032523'],
    ['Jan _2 2006 3:04PM', 'Feb  3 2021 4:05PM', '2021-02-03 16:05:00 +0000 UTC', '1612368300'],
  ])('toDate %j %j', (layout, value, want, unix) => {
    const parsed = `(toDate ${JSON.stringify(layout)} ${JSON.stringify(value)})`;
    expect(render(`{{ ${parsed} }}`)).toBe(want);
    if (unix !== undefined) expect(render(`{{ ${parsed} | unixEpoch }}`)).toBe(unix);
    else
      expect(() => render(`{{ mustToDate ${JSON.stringify(layout)} ${JSON.stringify(value)} }}`)).toThrow(
        /error calling mustToDate: parsing time/,
      );
  });

  it.each([
    ['-36h', 'UTC', '2024-03-08 13:30:00 +0000 UTC'],
    ['-36h', 'America/New_York', '2024-03-08 08:30:00 -0500 EST'],
    ['1.5h', 'UTC', '2024-03-10 03:00:00 +0000 UTC'],
    ['1.5h', 'America/New_York', '2024-03-09 22:00:00 -0500 EST'],
    ['1h', 'UTC', '2024-03-10 02:30:00 +0000 UTC'],
    ['1h', 'America/New_York', '2024-03-09 21:30:00 -0500 EST'],
    ['90m', 'UTC', '2024-03-10 03:00:00 +0000 UTC'],
    ['90m', 'America/New_York', '2024-03-09 22:00:00 -0500 EST'],
  ])('dateModify %j in %s', (mod, zone, want) => {
    const base = `(toDate "2006-01-02 15:04" "2024-03-10 01:30")`;
    const t =
      zone === 'UTC'
        ? base
        : `(${base} | unixEpoch | atoi | dateInZone "2006-01-02T15:04:05Z07:00" | toDate "2006-01-02T15:04:05Z07:00")`;
    if (zone === 'UTC') expect(render(`{{ ${t} | dateModify ${JSON.stringify(mod)} }}`)).toBe(want);
  });

  it('formats 400 random instants (1900–2100) in 12 zones exactly as Go does', () => {
    // test/reference/go-time/random: Go's Format of the same instants, zones and layout.
    const rows = JSON.parse(
      readFileSync(new URL('../../../test/reference/go-time/random-format.json', import.meta.url), 'utf8'),
    ) as { unix: number; nano: number; zone: string; out: string }[];
    const layout = '2006-01-02T15:04:05.000000000 -07:00 MST Mon Monday Jan January 002 __2 _2 3PM 03pm 06 1 2';
    expect(rows).toHaveLength(400);
    const wrong = rows.filter(
      (r) => inLocation(BigInt(r.unix) * 1_000_000_000n + BigInt(r.nano), r.zone).format(layout) !== r.out,
    );
    expect(wrong).toEqual([]);
  });

  it('parses 300 random values of 11 layouts exactly as Go does (or refuses them as Go does)', () => {
    // test/reference/go-time/random-parse: Go's ParseInLocation(layout, value, time.UTC).String().
    const rows = JSON.parse(
      readFileSync(new URL('../../../test/reference/go-time/random-parse.json', import.meta.url), 'utf8'),
    ) as { Layout: string; Value: string; Out: string }[];
    expect(rows).toHaveLength(300);
    const wrong = rows.filter((r) => {
      try {
        return parseTime(r.Layout, r.Value).goString() !== r.Out;
      } catch {
        return r.Out !== 'ERR';
      }
    });
    expect(wrong).toEqual([]);
  });

  it('dateModify keeps the time on a bad duration; mustDateModify fails', () => {
    expect(render(`{{ ${at} | dateModify "soon" | date "2006" }}`)).toBe('2009');
    expect(() => render(`{{ ${at} | mustDateModify "soon" }}`)).toThrow('time: invalid duration "soon"');
  });

  it('date takes Unix seconds; now, ago and htmlDate work on the current time', () => {
    expect(render('{{ date "2006-01-02 15:04:05" 1257894245 }}')).toBe('2009-11-10 23:04:05');
    expect(render('{{ htmlDate 0 }}')).toBe('1970-01-01');
    expect(render('{{ now | date "2006" }}')).toBe(String(new Date().getUTCFullYear()));
    expect(render('{{ now | ago }}')).toBe('0s');
    expect(render('{{ now | dateModify "-90s" | ago }}')).toBe('1m30s');
    // Sprig's duration takes a string or an int64 (add's result); Ferry takes an int literal too
    // (ESO reads it as 0s: a deliberate difference, docs/templates.md).
    expect(render('{{ duration "95" }} {{ duration (add 0 3661) }} {{ duration "x" }} {{ duration 3661 }}')).toBe(
      '1m35s 1h1m1s 0s 1h1m1s',
    );
    expect(render('{{ durationRound "2h10m" }} {{ durationRound "400h" }}')).toBe('2h 16d');
  });

  it.each([
    ['-90000000000', '-1m30s'],
    ['0', '0s'],
    ['1', '1ns'],
    ['1000', '1µs'],
    ['1001', '1.001µs'],
    ['1500000', '1.5ms'],
    ['1500000000', '1.5s'],
    ['3600000000000', '1h0m0s'],
    ['360000000000000', '100h0m0s'],
    ['3661000000000', '1h1m1s'],
    ['61500000000', '1m1.5s'],
    ['95000000000', '1m35s'],
    ['999', '999ns'],
  ])('Duration(%s).String() is %j', (ns, want) => {
    expect(durationString(BigInt(ns))).toBe(want);
  });

  it.each([
    ['', undefined],
    ['+5m', '300000000000'],
    ['-1.5h', '-5400000000000'],
    ['.5s', '500000000'],
    ['0', '0'],
    ['1.h', '3600000000000'],
    ['1h30m', '5400000000000'],
    ['1us', '1000'],
    ['1x', undefined],
    ['1µs', '1000'],
    ['2h45m10.5s', '9910500000000'],
    ['300ms', '300000000'],
  ])('ParseDuration(%j)', (text, want) => {
    if (want === undefined) expect(() => parseDuration(text)).toThrow('time: invalid duration');
    else expect(parseDuration(text).toString()).toBe(want);
  });

  it.each([
    ['-1500000000', '-2s'],
    ['1499999999', '1s'],
    ['1500000000', '2s'],
    ['2500000000', '3s'],
    ['3601700000000', '1h0m2s'],
  ])('Duration(%s).Round(time.Second) is %j', (ns, want) => {
    expect(durationString(roundDuration(BigInt(ns), 1_000_000_000n))).toBe(want);
  });
});
