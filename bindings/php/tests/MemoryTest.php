<?php

declare(strict_types=1);

namespace Scimkit\Tests;

use PDO;
use PHPUnit\Framework\TestCase;
use Scimkit\Example\AppStorage;
use Scimkit\Provider;

/**
 * Memory stays flat in a long-lived PHP process (a worker, a queue consumer): a leak of a few dozen bytes
 * per request, in the package or the native library, breaks these bounds.
 */
final class MemoryTest extends TestCase
{
    private const REQUESTS = 3000;

    /** PHP memory and process RSS after REQUESTS more requests, minus before; warmed up first. */
    private static function growth(callable $request): array
    {
        for ($i = 0; $i < 300; $i++) {
            $request();
        }
        gc_collect_cycles();
        [$php, $rss] = [memory_get_usage(), self::rssKib()];
        for ($i = 0; $i < self::REQUESTS; $i++) {
            $request();
        }
        gc_collect_cycles();
        return [memory_get_usage() - $php, self::rssKib() - $rss];
    }

    private static function rssKib(): int
    {
        preg_match('/^VmRSS:\s+(\d+)/m', (string) file_get_contents('/proc/self/status'), $m);
        return (int) ($m[1] ?? 0);
    }

    private static function providerAndUser(): array
    {
        $storage = new AppStorage(new PDO('sqlite::memory:'));
        $storage->install();
        $config = (require dirname(__DIR__) . '/example/config.php')('https://app.example/scim/v2');
        $provider = fn () => new Provider(Native::library(), Native::component(), $config, $storage);
        $created = $provider()->handle('POST', '/Users', '', ['Content-Type' => 'application/scim+json'], '{"userName":"bjensen"}');
        self::assertSame(201, $created->status, $created->body);
        return [$provider, '/Users/' . json_decode($created->body, true)['id']];
    }

    public function testOneProviderAnsweringManyRequestsKeepsMemoryFlat(): void
    {
        [$provider, $path] = self::providerAndUser();
        $p = $provider();
        [$php, $rss] = self::growth(fn () => self::assertSame(200, $p->handle('GET', $path, '', [], null)->status));
        self::assertTrue($php < 16 * 1024, "PHP memory grew by $php bytes over " . self::REQUESTS . ' requests');
        self::assertTrue($rss < 128, "RSS grew by $rss KiB over " . self::REQUESTS . ' requests');
    }

    /** As under php -S or php-fpm, where each request builds its Provider: here all in one process. */
    public function testAProviderPerRequestKeepsMemoryFlat(): void
    {
        [$provider, $path] = self::providerAndUser();
        [$php, $rss] = self::growth(fn () => self::assertSame(200, $provider()->handle('GET', $path, '', [], null)->status));
        self::assertTrue($php < 16 * 1024, "PHP memory grew by $php bytes over " . self::REQUESTS . ' providers');
        self::assertTrue($rss < 128, "RSS grew by $rss KiB over " . self::REQUESTS . ' providers');
    }
}
