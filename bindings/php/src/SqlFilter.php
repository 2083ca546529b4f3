<?php

declare(strict_types=1);

namespace Scimkit;

/**
 * The engine's pushed-down filter (column names under a mapping) as a parameterised SQL WHERE clause.
 *
 * Only the listed columns are ever written into SQL. A part it cannot express (an unknown column, an
 * element match, a case-exact substring) is left out so that the result is a superset; `exact` then says
 * so, and the storage answers `applied: nothing` for the engine to narrow. Values are always parameters.
 *
 * Membership is no column: `members.value eq "id"` (MEMBER_PATH; how the engine finds a User's groups, and
 * what clients send) arrives under that reserved path. Given the storage's membership table, it becomes
 * `id IN (SELECT group FROM rel WHERE member = ?)`, and an `or` of such equalities one `member IN (…)`;
 * without it, the comparison is left out like an unknown column.
 */
final class SqlFilter
{
    /** The reserved path of a membership comparison. */
    public const MEMBER_PATH = 'members.value';

    public string $sql = '1=1';
    /** @var list<mixed> */
    public array $params = [];
    /** Whether $sql selects exactly the matches (else a superset). */
    public bool $exact = true;

    /**
     * @param array<string, string> $columns column name from the engine => SQL expression (a quoted column)
     * @param string $driver PDO driver name: sqlite, pgsql or mysql (its default collation ignores case)
     * @param array{table: string, group: string, member: string, id: string}|null $members the membership
     *        table of the searched type (SQL identifiers, never client input): `table` holds one row per
     *        membership, its `group` column the group's id and its `member` column the member's id; `id` is
     *        the searched table's id expression. Index `member` for a User's groups to be one lookup.
     */
    public function __construct(
        private readonly array $columns,
        private readonly string $driver = 'sqlite',
        private readonly ?array $members = null,
    ) {
    }

    public static function where(?array $filter, array $columns, string $driver = 'sqlite', ?array $members = null): self
    {
        $f = new self($columns, $driver, $members);
        if ($filter !== null) {
            $f->sql = $f->node($filter) ?? '1=1';
        }
        return $f;
    }

    /** `ORDER BY …` for the engine's sort key, or '' (and not exact) when the column is not listed. */
    public function orderBy(?array $sort, string $tieBreaker): string
    {
        if ($sort === null) {
            return "ORDER BY $tieBreaker";
        }
        $col = $this->columns[$sort['path']] ?? null;
        if ($col === null) {
            $this->exact = false;
            return "ORDER BY $tieBreaker";
        }
        $expr = $sort['caseExact'] ? $col : "LOWER($col)";
        $dir = $sort['descending'] ? 'DESC' : 'ASC';
        // Absent values last, as the engine orders them.
        return "ORDER BY ($col IS NULL) ASC, $expr $dir, $tieBreaker";
    }

    /** @return string|null null: no constraint (already marked inexact) */
    private function node(array $n): ?string
    {
        switch ($n['op']) {
            case 'and':
                $parts = array_filter(array_map($this->node(...), $n['args']), fn ($p) => $p !== null);
                return $parts === [] ? null : '(' . implode(' AND ', $parts) . ')';
            case 'or':
                if ($n['args'] !== [] && array_filter($n['args'], fn ($a) => !$this->isMembership($a)) === []) {
                    return $this->memberOf($n['args']);
                }
                $params = count($this->params);
                $parts = array_map($this->node(...), $n['args']);
                return in_array(null, $parts, true) ? $this->dropFrom($params) : '(' . implode(' OR ', $parts) . ')';
            case 'not':
                $params = count($this->params);
                $outer = $this->exact;
                $this->exact = true;
                $inner = $this->node($n['arg']);
                $innerExact = $this->exact;
                $this->exact = $outer && $innerExact;
                return $innerExact && $inner !== null ? "(NOT $inner)" : $this->dropFrom($params);
            case 'pr':
                $col = $this->column($n['path']);
                return $col === null ? null : "($col IS NOT NULL AND $col <> '')";
            case 'match':
                return $this->lost();
            default:
                return $this->compare($n);
        }
    }

    /** Leaves out a part already translated in pieces: the parameters its pieces took go too. */
    private function dropFrom(int $params): ?string
    {
        array_splice($this->params, $params);
        return null;
    }

    private function lost(): ?string
    {
        $this->exact = false;
        return null;
    }

    private function column(string $path): ?string
    {
        return $this->columns[$path] ?? $this->lost();
    }

    /** Whether the node is `members.value eq "id"` and the membership table is known. */
    private function isMembership(mixed $n): bool
    {
        return $this->members !== null && is_array($n) && ($n['path'] ?? null) === self::MEMBER_PATH
            && $n['op'] === 'eq' && $n['type'] === 'text';
    }

    /**
     * Groups holding any of the members: one subquery on the membership table. An id compared without
     * case uses `=` too when it has no letters (numbers, most often), so that the member index serves it.
     * @param list<array> $equalities membership equalities
     */
    private function memberOf(array $equalities): string
    {
        ['table' => $table, 'group' => $group, 'member' => $member, 'id' => $id] = $this->members;
        $plain = $folded = [];
        foreach ($equalities as $n) {
            $v = (string) $n['value'];
            if ($n['caseExact'] || strtolower($v) === strtoupper($v)) {
                $plain[] = $v;
            } else {
                $folded[] = $v;
            }
            if ($n['caseExact'] && $this->driver === 'mysql') {
                // The default collation compares without case: a superset of the case-exact matches.
                $this->exact = false;
            }
        }
        $conditions = [];
        if ($plain !== []) {
            $conditions[] = count($plain) === 1 ? "$member = ?" : "$member IN (" . implode(', ', array_fill(0, count($plain), '?')) . ')';
        }
        foreach ($folded as $_) {
            $conditions[] = "LOWER($member) = LOWER(?)";
        }
        array_push($this->params, ...$plain, ...$folded);
        return "$id IN (SELECT $group FROM $table WHERE " . implode(' OR ', $conditions) . ')';
    }

    private function compare(array $n): ?string
    {
        if ($n['path'] === self::MEMBER_PATH) {
            // Any other comparison of members is left to the engine.
            return $this->isMembership($n) ? $this->memberOf([$n]) : $this->lost();
        }
        static $ops = ['eq' => '=', 'ne' => '<>', 'gt' => '>', 'ge' => '>=', 'lt' => '<', 'le' => '<='];
        $col = $this->column($n['path']);
        if ($col === null) {
            return null;
        }
        $op = $n['op'];
        $value = $n['value'];
        if ($n['type'] === 'null') {
            return match ($op) {
                'eq' => "$col IS NULL",
                'ne' => "$col IS NOT NULL",
                default => $this->lost(),
            };
        }
        if (is_bool($value)) {
            $value = (int) $value;
        }
        $text = $n['type'] === 'text';
        $ignoreCase = $text && !$n['caseExact'];
        if ($text && $n['caseExact'] && $this->driver === 'mysql') {
            // The default collation compares without case: a superset of the case-exact matches.
            $this->exact = false;
        }
        if (isset($ops[$op])) {
            [$lhs, $rhs] = $ignoreCase ? ["LOWER($col)", 'LOWER(?)'] : [$col, '?'];
            $this->params[] = $value;
            $sql = "$lhs {$ops[$op]} $rhs";
            return $op === 'ne' ? "($col IS NULL OR $sql)" : $sql;
        }
        $pattern = match ($op) {
            'co' => '%' . self::escapeLike((string) $value) . '%',
            'sw' => self::escapeLike((string) $value) . '%',
            'ew' => '%' . self::escapeLike((string) $value),
            default => null,
        };
        if ($pattern === null) {
            return $this->lost();
        }
        if (!$ignoreCase && $this->driver !== 'pgsql') {
            // LIKE ignores case in SQLite and MySQL: a superset the engine narrows.
            $this->exact = false;
        }
        $this->params[] = $pattern;
        return $ignoreCase ? "LOWER($col) LIKE LOWER(?) ESCAPE '!'" : "$col LIKE ? ESCAPE '!'";
    }

    private static function escapeLike(string $s): string
    {
        return strtr($s, ['!' => '!!', '%' => '!%', '_' => '!_']);
    }
}
