<?php

declare(strict_types=1);

namespace Scimkit;

/**
 * The engine's pushed-down filter (column names under a mapping) as a parameterised SQL WHERE clause.
 *
 * Only the listed columns are ever written into SQL. A part it cannot express (an unknown column, an
 * element match, a case-exact substring) is left out so that the result is a superset; `exact` then says
 * so, and the storage answers `applied: nothing` for the engine to narrow. Values are always parameters.
 */
final class SqlFilter
{
    public string $sql = '1=1';
    /** @var list<mixed> */
    public array $params = [];
    /** Whether $sql selects exactly the matches (else a superset). */
    public bool $exact = true;

    /**
     * @param array<string, string> $columns column name from the engine => SQL expression (a quoted column)
     * @param string $driver PDO driver name: sqlite, pgsql or mysql (its default collation ignores case)
     */
    public function __construct(private readonly array $columns, private readonly string $driver = 'sqlite')
    {
    }

    public static function where(?array $filter, array $columns, string $driver = 'sqlite'): self
    {
        $f = new self($columns, $driver);
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
                $parts = array_map($this->node(...), $n['args']);
                return in_array(null, $parts, true) ? null : '(' . implode(' OR ', $parts) . ')';
            case 'not':
                $outer = $this->exact;
                $this->exact = true;
                $inner = $this->node($n['arg']);
                $innerExact = $this->exact;
                $this->exact = $outer && $innerExact;
                return $innerExact && $inner !== null ? "(NOT $inner)" : null;
            case 'pr':
                $col = $this->column($n['path']);
                return $col === null ? null : "($col IS NOT NULL AND $col <> '')";
            case 'match':
                return $this->lost();
            default:
                return $this->compare($n);
        }
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

    private function compare(array $n): ?string
    {
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
