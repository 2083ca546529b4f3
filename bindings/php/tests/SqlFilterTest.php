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

    private const MEMBERS = ['table' => 'rel', 'group' => 'group_id', 'member' => 'member_id', 'id' => 'g.id'];

    /** Runs the filter against groups with a membership table and returns the matching group names. */
    private static function groups(SqlFilter $f): array
    {
        $db = new PDO('sqlite::memory:');
        $db->exec("CREATE TABLE g (id INTEGER PRIMARY KEY, name TEXT);
            CREATE TABLE rel (group_id INTEGER, member_id TEXT);
            INSERT INTO g VALUES (1, 'admins'), (2, 'staff'), (3, 'empty');
            INSERT INTO rel VALUES (1, '7'), (2, '7'), (2, '8'), (1, 'Ab')");
        $stmt = $db->prepare("SELECT name FROM g WHERE {$f->sql} ORDER BY id");
        $stmt->execute($f->params);
        return $stmt->fetchAll(PDO::FETCH_COLUMN);
    }

    private static function member(string $id, bool $caseExact = true, string $op = 'eq'): array
    {
        return self::eq(SqlFilter::MEMBER_PATH, $id, 'text', $caseExact, $op);
    }

    public function testMembershipIsOneSubqueryOnTheMembershipTable(): void
    {
        $cols = ['id' => 'g.id', 'name' => 'name'];
        $f = SqlFilter::where(self::member('8'), $cols, 'sqlite', self::MEMBERS);
        Check::same('g.id IN (SELECT group_id FROM rel WHERE member_id = ?)', $f->sql);
        Check::same([['staff'], true], [self::groups($f), $f->exact]);
        // A page of users at once: one IN list.
        $page = ['op' => 'or', 'args' => [self::member('8'), self::member('7'), self::member('9')]];
        $f = SqlFilter::where($page, $cols, 'sqlite', self::MEMBERS);
        Check::same('g.id IN (SELECT group_id FROM rel WHERE member_id IN (?, ?, ?))', $f->sql);
        Check::same([['admins', 'staff'], true, ['8', '7', '9']], [self::groups($f), $f->exact, $f->params]);
        $and = ['op' => 'and', 'args' => [self::eq('name', 'ADMINS'), self::member('7')]];
        $f = SqlFilter::where($and, $cols, 'sqlite', self::MEMBERS);
        Check::same([['admins'], true], [self::groups($f), $f->exact]);
        $not = ['op' => 'not', 'arg' => self::member('7')];
        Check::same(['empty'], self::groups(SqlFilter::where($not, $cols, 'sqlite', self::MEMBERS)));
    }

    public function testMembershipIdsCompareWithoutCaseOnlyWhenAsked(): void
    {
        $cols = ['id' => 'g.id'];
        Check::same(['admins'], self::groups(SqlFilter::where(self::member('ab', false), $cols, 'sqlite', self::MEMBERS)));
        Check::same([], self::groups(SqlFilter::where(self::member('ab'), $cols, 'sqlite', self::MEMBERS)));
        $mixed = ['op' => 'or', 'args' => [self::member('ab', false), self::member('8', false)]];
        $f = SqlFilter::where($mixed, $cols, 'sqlite', self::MEMBERS);
        Check::same('g.id IN (SELECT group_id FROM rel WHERE member_id = ? OR LOWER(member_id) = LOWER(?))', $f->sql);
        Check::same([['admins', 'staff'], true], [self::groups($f), $f->exact]);
        $mysql = SqlFilter::where(self::member('Ab'), $cols, 'mysql', self::MEMBERS);
        Check::true(!$mysql->exact, 'MySQL compares without case: a superset');
    }

    public function testMembershipWithoutItsTableOrBeyondEqualityIsLeftToTheEngine(): void
    {
        $cols = ['id' => 'g.id', 'name' => 'name'];
        $f = SqlFilter::where(self::member('7'), $cols);
        Check::same(['1=1', false], [$f->sql, $f->exact]);
        $f = SqlFilter::where(self::member('7', op: 'co'), $cols, 'sqlite', self::MEMBERS);
        Check::same(['1=1', false], [$f->sql, $f->exact]);
        $or = ['op' => 'or', 'args' => [self::member('7'), self::eq('title', 'x')]];
        Check::same([['admins', 'staff', 'empty'], false], [self::groups($f = SqlFilter::where($or, $cols, 'sqlite', self::MEMBERS)), $f->exact]);
        $and = ['op' => 'and', 'args' => [self::member('8'), self::eq('members.display', 'x')]];
        $f = SqlFilter::where($and, $cols, 'sqlite', self::MEMBERS);
        Check::same([['staff'], false], [self::groups($f), $f->exact]);
    }
}
