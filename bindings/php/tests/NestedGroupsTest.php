<?php

declare(strict_types=1);

namespace Scimkit\Tests;

use PHPUnit\Framework\TestCase;
use Scimkit\Provider;
use Scimkit\Response;

/**
 * Nested groups on a mapped PHP host whose storage can nest (NestingStorage): the engine walks the hierarchy
 * itself, since the host has no recursive query, and checks every write for cycles.
 */
final class NestedGroupsTest extends TestCase
{
    private const JSON = ['Content-Type' => 'application/scim+json'];
    private const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

    private NestingStorage $storage;
    private Provider $p;

    protected function setUp(): void
    {
        $this->storage = new NestingStorage();
        $config = [
            'baseUrl' => 'https://app.example/scim/v2',
            'mapping' => [
                'User' => [
                    'id' => 'id',
                    'columns' => [
                        'userName' => 'login',
                        'meta.created' => ['column' => 'created_at', 'type' => 'sqlDateTime'],
                        'meta.lastModified' => ['column' => 'updated_at', 'type' => 'sqlDateTime'],
                    ],
                    'rest' => 'extra',
                ],
                'Group' => [
                    'id' => 'id',
                    'columns' => [
                        'displayName' => 'title',
                        'meta.created' => ['column' => 'created_at', 'type' => 'sqlDateTime'],
                        'meta.lastModified' => ['column' => 'updated_at', 'type' => 'sqlDateTime'],
                    ],
                    'rest' => 'extra',
                ],
            ],
        ];
        $this->p = new Provider(Native::library(), Native::component(), $config, $this->storage);
    }

    private function send(string $method, string $path, ?array $body = null, string $query = ''): Response
    {
        return $this->p->handle($method, $path, $query, $body === null ? [] : self::JSON, $body === null ? null : json_encode($body));
    }

    private function create(string $endpoint, array $body): string
    {
        $r = $this->send('POST', $endpoint, $body);
        self::assertSame(201, $r->status, $r->body);
        return json_decode($r->body, true)['id'];
    }

    private function addMember(string $group, string $member): Response
    {
        $ops = [['op' => 'add', 'path' => 'members', 'value' => [['value' => $member]]]];
        return $this->send('PATCH', "/Groups/$group", ['schemas' => [self::PATCH], 'Operations' => $ops]);
    }

    /** [display, type] of each of a user's groups, in the order shown. */
    private function groupsOf(string $user): array
    {
        $r = $this->send('GET', "/Users/$user");
        self::assertSame(200, $r->status, $r->body);
        return array_map(fn ($g) => [$g['display'], $g['type']], json_decode($r->body, true)['groups'] ?? []);
    }

    /** The ids of the users a filter finds. */
    private function usersIn(string $group): array
    {
        $r = $this->send('GET', '/Users', null, 'filter=' . rawurlencode("groups.value eq \"$group\""));
        self::assertSame(200, $r->status, $r->body);
        return array_column(json_decode($r->body, true)['Resources'], 'id');
    }

    /** top ⊃ middle ⊃ bottom ⊃ alice; bob directly in top. Members are sent without a type. */
    private function hierarchy(): array
    {
        $alice = $this->create('/Users', ['userName' => 'alice']);
        $bob = $this->create('/Users', ['userName' => 'bob']);
        $bottom = $this->create('/Groups', ['displayName' => 'bottom', 'members' => [['value' => $alice]]]);
        $middle = $this->create('/Groups', ['displayName' => 'middle', 'members' => [['value' => $bottom]]]);
        $top = $this->create('/Groups', ['displayName' => 'top', 'members' => [['value' => $middle], ['value' => $bob]]]);
        return [$alice, $bob, $bottom, $middle, $top];
    }

    public function testAThreeLevelHierarchyShowsDirectAndIndirectGroups(): void
    {
        [$alice, $bob, $bottom, $middle, $top] = $this->hierarchy();
        self::assertSame([['bottom', 'direct'], ['middle', 'indirect'], ['top', 'indirect']], $this->groupsOf($alice));
        self::assertSame([['top', 'direct']], $this->groupsOf($bob));
        // The member sent without a type was resolved as the group it is, and kept so by the application.
        $members = json_decode($this->send('GET', "/Groups/$middle")->body, true)['members'];
        self::assertSame([[$bottom, 'Group', "https://app.example/scim/v2/Groups/$bottom"]],
            array_map(fn ($m) => [$m['value'], $m['type'], $m['$ref']], $members));
        self::assertSame([$middle, $bob], $this->storage->memberIds($top));
    }

    public function testACycleIsRefusedAndNamedAndNothingIsWritten(): void
    {
        [$alice, , $bottom, $middle, $top] = $this->hierarchy();
        $r = $this->addMember($bottom, $top);
        self::assertSame(400, $r->status, $r->body);
        $error = json_decode($r->body, true);
        self::assertSame('invalidValue', $error['scimType']);
        self::assertStringContainsString("$top > $middle > $bottom > $top", $error['detail']);
        self::assertSame([$alice], $this->storage->memberIds($bottom));
        // A group as its own member, by PUT.
        $put = $this->send('PUT', "/Groups/$top", ['displayName' => 'top', 'members' => [['value' => $top]]]);
        self::assertSame(400, $put->status, $put->body);
        self::assertSame(3, count($this->groupsOf($alice)));
    }

    public function testFilteringByGroupsValueFindsDirectAndIndirectMembersThroughTheEnginesWalk(): void
    {
        [$alice, $bob, $bottom, $middle, $top] = $this->hierarchy();
        $this->create('/Users', ['userName' => 'carol']);
        self::assertSame([$alice, $bob], $this->usersIn($top));
        self::assertSame([$alice], $this->usersIn($middle));
        self::assertSame([$alice], $this->usersIn($bottom));
        self::assertSame([], $this->usersIn('g999'));
    }
}
