<?php

declare(strict_types=1);

namespace Scimkit\Tests;

use PDO;
use PHPUnit\Framework\TestCase;
use Scimkit\Example\AppStorage;
use Scimkit\Hooks;
use Scimkit\Native as Ffi;
use Scimkit\Provider;
use Scimkit\SqlFilter;
use Scimkit\Storage;
use Scimkit\StorageError;

/** The package over the real library and component, with the example's storage on an in-memory database. */
final class ProviderTest extends TestCase
{
    private const JSON = ['Content-Type' => 'application/scim+json'];

    private static function provider(?Storage $storage = null, ?PDO $db = null, ?Hooks $hooks = null): Provider
    {
        if ($storage === null) {
            $storage = new AppStorage($db ?? new PDO('sqlite::memory:'));
            $storage->install();
        }
        $config = (require dirname(__DIR__) . '/example/config.php')('https://app.example/scim/v2');
        return new Provider(Native::library(), Native::component(), $config, $storage, hooks: $hooks);
    }

    public function testHooksVetoACreateAndSeeThePatchBeforeAndAfter(): void
    {
        $hooks = new class extends Hooks {
            public array $changed = [];

            public function check(array $change): ?array
            {
                if (($change['after']['userName'] ?? '') === 'admin') {
                    return self::refuse(400, 'the userName admin is reserved', 'invalidValue');
                }
                return null;
            }

            public function changed(array $change, string $version): void
            {
                $this->changed[] = [$change, $version];
            }
        };
        $p = self::provider(hooks: $hooks);
        $r = $p->handle('POST', '/Users', '', self::JSON, '{"userName":"admin"}');
        self::assertSame(400, $r->status, $r->body);
        self::assertSame(['invalidValue', 'the userName admin is reserved'], [self::json($r)['scimType'], self::json($r)['detail']]);
        self::assertSame(0, self::json($p->handle('GET', '/Users', '', [], null))['totalResults']);
        self::assertSame([], $hooks->changed);

        $r = $p->handle('POST', '/Users', '', self::JSON, '{"userName":"bjensen","password":"Pw-123456","name":{"givenName":"Barbara"}}');
        self::assertSame(201, $r->status, $r->body);
        $id = self::json($r)['id'];
        $patch = ['schemas' => ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
            'Operations' => [['op' => 'replace', 'path' => 'name.givenName', 'value' => 'Babs']]];
        self::assertSame(200, $p->handle('PATCH', "/Users/$id", '', self::JSON, json_encode($patch))->status);
        [$created, [$patched, $version]] = [$hooks->changed[0][0], $hooks->changed[1]];
        self::assertSame([(string) $id, ['create']], [$created['id'], $created['operations']]);
        self::assertSame(['patch'], $patched['operations']);
        self::assertSame(['name.givenName'], $patched['paths']);
        self::assertSame(['Barbara', 'Babs'], [$patched['before']['name']['givenName'], $patched['after']['name']['givenName']]);
        self::assertArrayNotHasKey('password', $patched['before']);
        self::assertNotSame('', $version);
    }

    private static function json(\Scimkit\Response $r): array
    {
        return json_decode($r->body, true, 512, JSON_THROW_ON_ERROR);
    }

    public function testTheHeaderIsDeclaredWithoutPreprocessorLines(): void
    {
        $decl = Ffi::declarations();
        self::assertTrue(!str_contains($decl, '#') && !str_contains($decl, 'extern "C"'), 'no preprocessor left');
        self::assertTrue(str_contains($decl, 'scimkit_storage_cb'), 'declarations kept');
    }

    public function testUsersAreRowsInTheApplicationsColumns(): void
    {
        $db = new PDO('sqlite::memory:');
        $p = self::provider(db: $db);
        $user = ['userName' => 'bjensen', 'name' => ['givenName' => 'Barbara', 'familyName' => 'Jensen'],
            'emails' => [['type' => 'work', 'value' => 'b@example.com']], 'active' => false];
        $r = $p->handle('POST', '/Users', '', self::JSON, json_encode($user));
        self::assertSame(201, $r->status, $r->body);
        $id = self::json($r)['id'];
        $row = $db->query("SELECT username, username_canonical, firstname, email, active FROM user WHERE id = $id")->fetch(PDO::FETCH_ASSOC);
        self::assertSame(['username' => 'bjensen', 'username_canonical' => 'bjensen', 'firstname' => 'Barbara', 'email' => 'b@example.com', 'active' => 0], $row);
        $got = $p->handle('GET', "/Users/$id", '', [], null);
        self::assertSame('W/"1"', $got->header('ETag'));
        self::assertSame(false, self::json($got)['active']);
        $list = self::json($p->handle('GET', '/Users', 'filter=' . rawurlencode('userName eq "BJENSEN"'), [], null));
        self::assertSame(1, $list['totalResults']);
        self::assertSame(409, $p->handle('POST', '/Users', '', self::JSON, '{"userName":"BJensen"}')->status);
        self::assertSame(204, $p->handle('DELETE', "/Users/$id", '', [], null)->status);
        self::assertSame(404, $p->handle('GET', "/Users/$id", '', [], null)->status);
    }

    public function testAttributesWithoutAColumnAreKeptInTheRestColumn(): void
    {
        $db = new PDO('sqlite::memory:');
        $p = self::provider(db: $db);
        $ent = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
        $r = $p->handle('POST', '/Users', '', self::JSON, json_encode(['userName' => 'a', 'title' => 'Boss', $ent => ['department' => 'R&D']]));
        self::assertSame(201, $r->status, $r->body);
        $id = self::json($r)['id'];
        $patch = ['schemas' => ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
            'Operations' => [['op' => 'add', 'path' => "$ent:manager", 'value' => ['value' => 'm1']]]];
        self::assertSame(200, $p->handle('PATCH', "/Users/$id", '', self::JSON, json_encode($patch))->status);
        $extra = json_decode((string) $db->query("SELECT scim_extra FROM user WHERE id = $id")->fetchColumn(), true);
        self::assertSame(['department' => 'R&D', 'manager' => ['value' => 'm1']], $extra[$ent]);
        $got = self::json($p->handle('GET', "/Users/$id", '', [], null));
        self::assertSame(['Boss', 'R&D', 'm1'], [$got['title'], $got[$ent]['department'], $got[$ent]['manager']['value']]);
    }

    public function testGroupMembersLiveInTheRelationTable(): void
    {
        $db = new PDO('sqlite::memory:');
        $p = self::provider(db: $db);
        $a = self::json($p->handle('POST', '/Users', '', self::JSON, '{"userName":"a"}'))['id'];
        $b = self::json($p->handle('POST', '/Users', '', self::JSON, '{"userName":"b"}'))['id'];
        $g = $p->handle('POST', '/Groups', '', self::JSON, json_encode(['displayName' => 'Staff', 'members' => [['value' => $a], ['value' => $b]]]));
        self::assertSame(201, $g->status, $g->body);
        $gid = self::json($g)['id'];
        self::assertSame(2, (int) $db->query("SELECT COUNT(*) FROM usergroup_rel_user WHERE usergroup_id = $gid")->fetchColumn());
        $read = self::json($p->handle('GET', "/Groups/$gid", '', [], null));
        self::assertSame(['a', 'b'], array_column($read['members'], 'display'), 'without a display sent, the user name');
        $put = $p->handle('PUT', "/Groups/$gid", '', self::JSON, json_encode(['displayName' => 'Staff', 'members' => [['value' => $b, 'display' => 'Bee']]]));
        self::assertSame(200, $put->status, $put->body);
        $read = self::json($p->handle('GET', "/Groups/$gid", '', [], null));
        self::assertSame([['$ref' => "https://app.example/scim/v2/Users/$b", 'display' => 'Bee', 'type' => 'User', 'value' => $b]], $read['members']);
        $p->handle('DELETE', "/Users/$b", '', [], null);
        $after = $p->handle('GET', "/Groups/$gid", '', [], null);
        self::assertSame([], self::json($after)['members'] ?? []);
        self::assertSame('W/"3"', $after->header('ETag'), 'a removed member changes the group');
    }

    public function testStorageExceptionsBecomeScimErrorsNotFatalErrors(): void
    {
        $failing = new class implements Storage {
            public function get(string $type, string $id, bool $withMembers): ?array
            {
                throw $id === 'gone' ? StorageError::notFound() : new \LogicException('database exploded');
            }
            public function create(string $type, array $row, array $unique, array $members): array
            {
                throw StorageError::unavailable('locked');
            }
            public function update(array $change): array
            {
                throw new \TypeError('bad');
            }
            public function delete(string $type, string $id, ?string $ifVersion): void
            {
                throw StorageError::notFound();
            }
            public function search(array $query): array
            {
                return ['items' => [], 'total' => 0, 'applied' => 'everything'];
            }
            public function members(string $type, string $id, int $startIndex, int $count): array
            {
                return [];
            }
        };
        $p = self::provider($failing);
        $errorLog = ini_set('error_log', '/dev/null');
        try {
            $r = $p->handle('GET', '/Users/1', '', [], null);
            self::assertSame(500, $r->status);
            self::assertTrue(!str_contains($r->body, 'exploded'), 'internals are not shown to clients');
            self::assertSame(404, $p->handle('GET', '/Users/gone', '', [], null)->status);
            self::assertSame(503, $p->handle('POST', '/Users', '', self::JSON, '{"userName":"x"}')->status);
            self::assertSame(0, self::json($p->handle('GET', '/Users', '', [], null))['totalResults']);
        } finally {
            ini_set('error_log', $errorLog === false ? '' : $errorLog);
        }
    }

    public function testEachProviderAnswersFromItsOwnStorage(): void
    {
        [$a, $b] = [self::provider(), self::provider()];
        $id = self::json($a->handle('POST', '/Users', '', self::JSON, '{"userName":"only-in-a"}'))['id'];
        self::assertSame(404, $b->handle('GET', "/Users/$id", '', [], null)->status);
        self::assertSame('only-in-a', self::json($a->handle('GET', "/Users/$id", '', [], null))['userName']);
    }

    public function testManyProvidersInOneProcessReuseTheEngine(): void
    {
        $storage = new AppStorage(new PDO('sqlite::memory:'));
        $storage->install();
        $start = hrtime(true);
        for ($i = 0; $i < 200; $i++) {
            self::assertSame(200, self::provider($storage)->handle('GET', '/ServiceProviderConfig', '', [], null)->status);
        }
        $perRequestMs = (hrtime(true) - $start) / 1e6 / 200;
        self::assertTrue($perRequestMs < 20, "a provider per request costs $perRequestMs ms");
    }

    public function testAUsersGroupsAreOneMembershipQueryTheStorageAnswersExactly(): void
    {
        $db = new PDO('sqlite::memory:');
        $app = new AppStorage($db);
        $app->install();
        $recording = new class ($app) implements Storage {
            /** @var list<array{array, array}> each search and its answer */
            public array $searches = [];
            public function __construct(private readonly AppStorage $app)
            {
            }
            public function get(string $type, string $id, bool $withMembers): ?array
            {
                return $this->app->get($type, $id, $withMembers);
            }
            public function create(string $type, array $row, array $unique, array $members): array
            {
                return $this->app->create($type, $row, $unique, $members);
            }
            public function update(array $change): array
            {
                return $this->app->update($change);
            }
            public function delete(string $type, string $id, ?string $ifVersion): void
            {
                $this->app->delete($type, $id, $ifVersion);
            }
            public function search(array $query): array
            {
                $page = $this->app->search($query);
                $this->searches[] = [$query, $page];
                return $page;
            }
            public function members(string $type, string $id, int $startIndex, int $count): array
            {
                return $this->app->members($type, $id, $startIndex, $count);
            }
        };
        $p = self::provider($recording);
        $id = self::json($p->handle('POST', '/Users', '', self::JSON, '{"userName":"bjensen"}'))['id'];
        $p->handle('POST', '/Groups', '', self::JSON, json_encode(['displayName' => 'Admins', 'members' => [['value' => $id]]]));
        $p->handle('POST', '/Groups', '', self::JSON, '{"displayName":"Others"}');
        $recording->searches = [];
        $user = self::json($p->handle('GET', "/Users/$id", '', [], null));
        self::assertSame(['Admins'], array_column($user['groups'], 'display'));
        self::assertSame(1, count($recording->searches), 'one search for the groups');
        [$query, $page] = $recording->searches[0];
        self::assertSame(['Group', SqlFilter::MEMBER_PATH, $id, true], [$query['resourceType'], $query['filter']['path'], $query['filter']['value'], $query['withoutMembers']]);
        self::assertSame(['everything', 1], [$page['applied'], $page['total']]);
        $plan = $db->prepare('EXPLAIN QUERY PLAN SELECT * FROM usergroup WHERE id IN (SELECT usergroup_id FROM usergroup_rel_user WHERE user_id = ?)');
        $plan->execute([$id]);
        self::assertTrue(str_contains(implode("\n", $plan->fetchAll(PDO::FETCH_COLUMN, 3)), 'USING INDEX usergroup_rel_user_user'), 'the member index serves it');
        // A client's filter on members is answered the same way.
        $list = self::json($p->handle('GET', '/Groups', 'filter=' . rawurlencode("members.value eq \"$id\""), [], null));
        self::assertSame([1, 'Admins'], [$list['totalResults'], $list['Resources'][0]['displayName']]);
        self::assertSame('everything', $recording->searches[1][1]['applied']);
    }

    public function testMemberAddsAndRemovesByIdReachTheStorageAsOneUnconditionalDelta(): void
    {
        $db = new PDO('sqlite::memory:');
        $app = new AppStorage($db);
        $app->install();
        $recording = new class ($app) implements Storage {
            /** @var list<array> every change the engine sent */
            public array $updates = [];
            /** @var list<string> the ids read */
            public array $gets = [];
            public function __construct(private readonly AppStorage $app)
            {
            }
            public function get(string $type, string $id, bool $withMembers): ?array
            {
                $this->gets[] = $id;
                return $this->app->get($type, $id, $withMembers);
            }
            public function create(string $type, array $row, array $unique, array $members): array
            {
                return $this->app->create($type, $row, $unique, $members);
            }
            public function update(array $change): array
            {
                $this->updates[] = $change;
                return $this->app->update($change);
            }
            public function delete(string $type, string $id, ?string $ifVersion): void
            {
                $this->app->delete($type, $id, $ifVersion);
            }
            public function search(array $query): array
            {
                return $this->app->search($query);
            }
            public function members(string $type, string $id, int $startIndex, int $count): array
            {
                return $this->app->members($type, $id, $startIndex, $count);
            }
        };
        $p = self::provider($recording);
        $a = self::json($p->handle('POST', '/Users', '', self::JSON, '{"userName":"a"}'))['id'];
        $b = self::json($p->handle('POST', '/Users', '', self::JSON, '{"userName":"b"}'))['id'];
        $gid = self::json($p->handle('POST', '/Groups', '', self::JSON, '{"displayName":"Staff"}'))['id'];
        $recording->gets = [];
        // What Entra ID sends, then Okta's remove-by-filter plus add.
        $entra = ['schemas' => ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
            'Operations' => [['op' => 'Add', 'path' => 'members', 'value' => [['$ref' => null, 'value' => $a]]]]];
        $r = $p->handle('PATCH', "/Groups/$gid", '', self::JSON, json_encode($entra));
        self::assertSame([204, ''], [$r->status, $r->body]);
        $okta = ['schemas' => ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], 'Operations' => [
            ['op' => 'remove', 'path' => "members[value eq \"$a\"]"],
            ['op' => 'add', 'path' => 'members', 'value' => [['value' => $b]]]]];
        self::assertSame(204, $p->handle('PATCH', "/Groups/$gid", '', self::JSON, json_encode($okta))->status);
        // The group is never read; each added member is looked up once, to give it its type.
        self::assertSame([(string) $a, (string) $b], $recording->gets, 'only the added members are read');
        $sent = array_map(fn ($c) => [$c['data'], $c['ifVersion'], $c['removeMembers'], array_column($c['addMembers'], 'value')], $recording->updates);
        self::assertSame([[null, null, [], [(string) $a]], [null, null, [(string) $a], [(string) $b]]], $sent);
        $read = self::json($p->handle('GET', "/Groups/$gid", '', [], null));
        self::assertSame([(string) $b], array_column($read['members'], 'value'));
        self::assertSame('Staff', $read['displayName'], 'the body is left as it was');
    }
}
