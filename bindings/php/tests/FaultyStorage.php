<?php

declare(strict_types=1);

namespace Scimkit\Tests;

use PDO;
use Scimkit\Example\AppStorage;
use Scimkit\Storage;

/** The example's storage on an in-memory database, failing on demand the way application code can. */
final class FaultyStorage implements Storage
{
    /** null: answer; 'error', 'type-error', 'destructor': throw; 'memory', 'exit': end PHP itself. */
    public ?string $fault = null;

    private readonly AppStorage $app;

    public function __construct()
    {
        $this->app = new AppStorage(new PDO('sqlite::memory:'));
        $this->app->install();
    }

    private function fail(): void
    {
        match ($this->fault) {
            null => null,
            'error' => throw new \Error('the storage broke'),
            // A TypeError raised by PHP itself, as a bug in application code would.
            'type-error' => strlen([]),
            'memory' => str_repeat('x', 1 << 30),
            'exit' => exit(3),
            default => null,
        };
    }

    public function get(string $type, string $id, bool $withMembers): ?array
    {
        $this->fail();
        return $this->app->get($type, $id, $withMembers);
    }

    public function create(string $type, array $row, array $unique, array $members): array
    {
        $this->fail();
        return $this->app->create($type, $row, $unique, $members);
    }

    public function update(array $change): array
    {
        $this->fail();
        return $this->app->update($change);
    }

    public function delete(string $type, string $id, ?string $ifVersion): void
    {
        $this->fail();
        $this->app->delete($type, $id, $ifVersion);
    }

    public function search(array $query): array
    {
        $this->fail();
        $page = $this->app->search($query);
        if ($this->fault === 'destructor') {
            // An object the page holds throws when it is released, after the storage call has returned.
            $page['cursor'] = new class {
                public function __destruct()
                {
                    throw new \Error('closing the cursor failed');
                }
            };
        }
        return $page;
    }

    public function members(string $type, string $id, int $startIndex, int $count): array
    {
        $this->fail();
        return $this->app->members($type, $id, $startIndex, $count);
    }
}
