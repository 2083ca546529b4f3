<?php

declare(strict_types=1);

namespace Scimkit\Tests;

use PDO;
use PHPUnit\Framework\TestCase;
use Scimkit\SqlFilter;

final class SqlFilterTest extends TestCase
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
        self::assertSame(['Alice'], self::names($f));
        self::assertTrue($f->exact, 'exact');
        self::assertSame([], self::names(SqlFilter::where(self::eq('username', 'alice', 'text', true), self::COLUMNS)));
    }

    public function testBooleansNullsPresenceAndNegation(): void
    {
        self::assertSame(['Alice', 'carol_1'], self::names(SqlFilter::where(self::eq('active', true, 'boolean'), self::COLUMNS)));
        self::assertSame(['bob'], self::names(SqlFilter::where(self::eq('email', null, 'null'), self::COLUMNS)));
        self::assertSame(['Alice', 'carol_1'], self::names(SqlFilter::where(['op' => 'pr', 'path' => 'email'], self::COLUMNS)));
        $not = ['op' => 'not', 'arg' => self::eq('username', 'bob')];
        self::assertSame(['Alice', 'carol_1'], self::names(SqlFilter::where($not, self::COLUMNS)));
        self::assertSame(['Alice', 'carol_1'], self::names(SqlFilter::where(self::eq('username', 'bob', op: 'ne'), self::COLUMNS)));
    }

    public function testLikeWildcardsInValuesAreLiteral(): void
    {
        self::assertSame(['carol_1'], self::names(SqlFilter::where(self::eq('username', 'L_', op: 'co'), self::COLUMNS)));
        self::assertSame([], self::names(SqlFilter::where(self::eq('username', '%', op: 'co'), self::COLUMNS)));
        self::assertSame(['Alice'], self::names(SqlFilter::where(self::eq('email', '.ORG', op: 'ew'), self::COLUMNS)));
    }

    public function testUnknownColumnsWidenTheResultAndSayItIsNotExact(): void
    {
        $and = ['op' => 'and', 'args' => [self::eq('username', 'bob'), self::eq('title', 'x')]];
        $f = SqlFilter::where($and, self::COLUMNS);
        self::assertSame(['bob'], self::names($f));
        self::assertTrue(!$f->exact, 'inexact');
        $or = ['op' => 'or', 'args' => [self::eq('username', 'bob'), self::eq('title', 'x')]];
        self::assertSame('1=1', SqlFilter::where($or, self::COLUMNS)->sql);
        $not = ['op' => 'not', 'arg' => self::eq('title; DROP TABLE t', 'x')];
        $f = SqlFilter::where($not, self::COLUMNS);
        self::assertSame(['1=1', false], [$f->sql, $f->exact]);
    }

    public function testOrderByListedColumnsOnly(): void
    {
        $f = SqlFilter::where(null, self::COLUMNS);
        self::assertSame('ORDER BY (username IS NULL) ASC, LOWER(username) DESC, id', $f->orderBy(['path' => 'username', 'descending' => true, 'caseExact' => false], 'id'));
        self::assertTrue($f->exact, 'exact after a listed sort');
        self::assertSame('ORDER BY id', $f->orderBy(['path' => 'title', 'descending' => false, 'caseExact' => false], 'id'));
        self::assertTrue(!$f->exact, 'an unlisted sort is left to the engine');
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
        self::assertSame('g.id IN (SELECT group_id FROM rel WHERE member_id = ?)', $f->sql);
        self::assertSame([['staff'], true], [self::groups($f), $f->exact]);
        // A page of users at once: one IN list.
        $page = ['op' => 'or', 'args' => [self::member('8'), self::member('7'), self::member('9')]];
        $f = SqlFilter::where($page, $cols, 'sqlite', self::MEMBERS);
        self::assertSame('g.id IN (SELECT group_id FROM rel WHERE member_id IN (?, ?, ?))', $f->sql);
        self::assertSame([['admins', 'staff'], true, ['8', '7', '9']], [self::groups($f), $f->exact, $f->params]);
        $and = ['op' => 'and', 'args' => [self::eq('name', 'ADMINS'), self::member('7')]];
        $f = SqlFilter::where($and, $cols, 'sqlite', self::MEMBERS);
        self::assertSame([['admins'], true], [self::groups($f), $f->exact]);
        $not = ['op' => 'not', 'arg' => self::member('7')];
        self::assertSame(['empty'], self::groups(SqlFilter::where($not, $cols, 'sqlite', self::MEMBERS)));
    }

    public function testMembershipIdsCompareWithoutCaseOnlyWhenAsked(): void
    {
        $cols = ['id' => 'g.id'];
        self::assertSame(['admins'], self::groups(SqlFilter::where(self::member('ab', false), $cols, 'sqlite', self::MEMBERS)));
        self::assertSame([], self::groups(SqlFilter::where(self::member('ab'), $cols, 'sqlite', self::MEMBERS)));
        $mixed = ['op' => 'or', 'args' => [self::member('ab', false), self::member('8', false)]];
        $f = SqlFilter::where($mixed, $cols, 'sqlite', self::MEMBERS);
        self::assertSame('g.id IN (SELECT group_id FROM rel WHERE member_id = ? OR LOWER(member_id) = LOWER(?))', $f->sql);
        self::assertSame([['admins', 'staff'], true], [self::groups($f), $f->exact]);
        $mysql = SqlFilter::where(self::member('Ab'), $cols, 'mysql', self::MEMBERS);
        self::assertTrue(!$mysql->exact, 'MySQL compares without case: a superset');
    }

    public function testMembershipWithoutItsTableOrBeyondEqualityIsLeftToTheEngine(): void
    {
        $cols = ['id' => 'g.id', 'name' => 'name'];
        $f = SqlFilter::where(self::member('7'), $cols);
        self::assertSame(['1=1', false], [$f->sql, $f->exact]);
        $f = SqlFilter::where(self::member('7', op: 'co'), $cols, 'sqlite', self::MEMBERS);
        self::assertSame(['1=1', false], [$f->sql, $f->exact]);
        $or = ['op' => 'or', 'args' => [self::member('7'), self::eq('title', 'x')]];
        self::assertSame([['admins', 'staff', 'empty'], false], [self::groups($f = SqlFilter::where($or, $cols, 'sqlite', self::MEMBERS)), $f->exact]);
        $and = ['op' => 'and', 'args' => [self::member('8'), self::eq('members.display', 'x')]];
        $f = SqlFilter::where($and, $cols, 'sqlite', self::MEMBERS);
        self::assertSame([['staff'], false], [self::groups($f), $f->exact]);
    }
}
