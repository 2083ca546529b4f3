<?php

declare(strict_types=1);

namespace Scimkit\Tests;

use PDO;
use Scimkit\SqlFilter;

final class SqlFilterTest
{
    private const COLUMNS = ['id' => 'id', 'username' => 'username', 'email' => 'email', 'active' => 'active'];

    private static function eq(string $path, mixed $value, string $type = 'text', bool $caseExact = false, string $op = 'eq'): array
    {
        return ['op' => $op, 'path' => $path, 'value' => $value, 'type' => $type, 'caseExact' => $caseExact];
    }

    /** Runs the filter against a small table and returns the matching usernames. */
    private static function names(SqlFilter $f): array
    {
        $db = new PDO('sqlite::memory:');
        $db->exec("CREATE TABLE t (id INTEGER PRIMARY KEY, username TEXT, email TEXT, active INTEGER);
            INSERT INTO t VALUES (1, 'Alice', 'a@x.org', 1), (2, 'bob', NULL, 0), (3, 'carol_1', 'c@y.com', 1)");
        $stmt = $db->prepare("SELECT username FROM t WHERE {$f->sql} ORDER BY id");
        $stmt->execute($f->params);
        return $stmt->fetchAll(PDO::FETCH_COLUMN);
    }

    public function testComparisonsIgnoreCaseUnlessCaseExact(): void
    {
        $f = SqlFilter::where(self::eq('username', 'alice'), self::COLUMNS);
        Check::same(['Alice'], self::names($f));
        Check::true($f->exact, 'exact');
        Check::same([], self::names(SqlFilter::where(self::eq('username', 'alice', 'text', true), self::COLUMNS)));
    }

    public function testBooleansNullsPresenceAndNegation(): void
    {
        Check::same(['Alice', 'carol_1'], self::names(SqlFilter::where(self::eq('active', true, 'boolean'), self::COLUMNS)));
        Check::same(['bob'], self::names(SqlFilter::where(self::eq('email', null, 'null'), self::COLUMNS)));
        Check::same(['Alice', 'carol_1'], self::names(SqlFilter::where(['op' => 'pr', 'path' => 'email'], self::COLUMNS)));
        $not = ['op' => 'not', 'arg' => self::eq('username', 'bob')];
        Check::same(['Alice', 'carol_1'], self::names(SqlFilter::where($not, self::COLUMNS)));
        Check::same(['Alice', 'carol_1'], self::names(SqlFilter::where(self::eq('username', 'bob', op: 'ne'), self::COLUMNS)));
    }

    public function testLikeWildcardsInValuesAreLiteral(): void
    {
        Check::same(['carol_1'], self::names(SqlFilter::where(self::eq('username', 'L_', op: 'co'), self::COLUMNS)));
        Check::same([], self::names(SqlFilter::where(self::eq('username', '%', op: 'co'), self::COLUMNS)));
        Check::same(['Alice'], self::names(SqlFilter::where(self::eq('email', '.ORG', op: 'ew'), self::COLUMNS)));
    }

    public function testUnknownColumnsWidenTheResultAndSayItIsNotExact(): void
    {
        $and = ['op' => 'and', 'args' => [self::eq('username', 'bob'), self::eq('title', 'x')]];
        $f = SqlFilter::where($and, self::COLUMNS);
        Check::same(['bob'], self::names($f));
        Check::true(!$f->exact, 'inexact');
        $or = ['op' => 'or', 'args' => [self::eq('username', 'bob'), self::eq('title', 'x')]];
        Check::same('1=1', SqlFilter::where($or, self::COLUMNS)->sql);
        $not = ['op' => 'not', 'arg' => self::eq('title; DROP TABLE t', 'x')];
        $f = SqlFilter::where($not, self::COLUMNS);
        Check::same(['1=1', false], [$f->sql, $f->exact]);
    }

    public function testOrderByListedColumnsOnly(): void
    {
        $f = SqlFilter::where(null, self::COLUMNS);
        Check::same('ORDER BY (username IS NULL) ASC, LOWER(username) DESC, id', $f->orderBy(['path' => 'username', 'descending' => true, 'caseExact' => false], 'id'));
        Check::true($f->exact, 'exact after a listed sort');
        Check::same('ORDER BY id', $f->orderBy(['path' => 'title', 'descending' => false, 'caseExact' => false], 'id'));
        Check::true(!$f->exact, 'an unlisted sort is left to the engine');
    }
}
