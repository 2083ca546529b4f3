<?php

declare(strict_types=1);

namespace Scimkit\Tests;

use PHPUnit\Framework\TestCase;
use Scimkit\Provider;
use Scimkit\Response;

/**
 * Whatever a storage does, nothing crosses the native library's frames: a Throwable becomes a SCIM error and
 * the process serves on; a fatal error PHP cannot catch leaves the engine refusing cleanly in that process.
 */
final class CallbackFailureTest extends TestCase
{
    private const JSON = ['Content-Type' => 'application/scim+json'];
    private const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

    private static function provider(FaultyStorage $storage): Provider
    {
        $config = (require dirname(__DIR__) . '/example/config.php')('https://app.example/scim/v2');
        return new Provider(Native::library(), Native::component(), $config, $storage);
    }

    private static function assertScimError(int $status, Response $r, string $what): void
    {
        self::assertSame($status, $r->status, "$what: $r->body");
        $body = json_decode($r->body, true, 512, JSON_THROW_ON_ERROR);
        self::assertSame([self::ERROR], $body['schemas'], $what);
        self::assertSame((string) $status, $body['status'], $what);
    }

    public function testErrorsTypeErrorsAndThrowingDestructorsAreScimErrorsAndTheProcessServesOn(): void
    {
        $storage = new FaultyStorage();
        $p = self::provider($storage);
        $id = json_decode($p->handle('POST', '/Users', '', self::JSON, '{"userName":"bjensen"}')->body, true)['id'];
        $errorLog = ini_set('error_log', '/dev/null');
        try {
            foreach (['error', 'type-error', 'destructor'] as $fault) {
                $storage->fault = $fault;
                self::assertScimError(500, $p->handle('GET', '/Users', '', [], null), "$fault in search");
                if ($fault !== 'destructor') {
                    self::assertScimError(500, $p->handle('GET', "/Users/$id", '', [], null), "$fault in get");
                    self::assertScimError(500, $p->handle('POST', '/Users', '', self::JSON, '{"userName":"x"}'), "$fault in create");
                }
                $storage->fault = null;
                self::assertSame(200, $p->handle('GET', "/Users/$id", '', [], null)->status, "served on after $fault");
            }
            self::assertSame(201, $p->handle('POST', '/Users', '', self::JSON, '{"userName":"after"}')->status);
            self::assertSame(2, json_decode($p->handle('GET', '/Users', '', [], null)->body, true)['totalResults']);
        } finally {
            ini_set('error_log', $errorLog === false ? '' : $errorLog);
        }
    }

    /**
     * Memory exhaustion and exit() inside a storage call are not exceptions: PHP's bailout jumps over the
     * native frames. The engine is then never entered again in that process; a later call (here from a
     * shutdown function) is answered 503 with a SCIM error, and the process ends normally, without a crash.
     */
    public function testAFatalErrorInsideAStorageCallLeavesTheEngineRefusingCleanly(): void
    {
        foreach (['memory', 'exit'] as $fault) {
            $env = getenv() + ['SCIMKIT_LIBRARY' => Native::library(), 'SCIMKIT_COMPONENT' => Native::component()];
            $child = proc_open(
                [PHP_BINARY, '-d', 'ffi.enable=1', '-d', 'memory_limit=64M', '-d', 'display_errors=stderr', __DIR__ . '/fatal-storage.php', $fault],
                [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']],
                $pipes,
                null,
                $env,
            );
            [$out, $err, $status] = self::finish($child, $pipes, 120);
            self::assertFalse($status['signaled'], "$fault: the process crashed (signal {$status['termsig']}): $out $err");
            self::assertStringNotContainsString('the storage call returned', $out, $fault);
            $answer = json_decode(trim($out), true);
            self::assertIsArray($answer, "$fault: $out $err");
            self::assertSame(503, $answer['status'], "$fault: $out");
            $body = json_decode($answer['body'], true, 512, JSON_THROW_ON_ERROR);
            self::assertSame([self::ERROR], $body['schemas']);
            self::assertStringContainsString('restart the process', $body['detail']);
        }
    }

    /** Output, error output and the exit status of a child, killed past $seconds. */
    private static function finish($child, array $pipes, int $seconds): array
    {
        $deadline = microtime(true) + $seconds;
        $out = $err = '';
        stream_set_blocking($pipes[1], false);
        stream_set_blocking($pipes[2], false);
        while (($status = proc_get_status($child))['running']) {
            if (microtime(true) > $deadline) {
                proc_terminate($child, 9);
                proc_close($child);
                self::fail("the child did not end within $seconds s");
            }
            $out .= stream_get_contents($pipes[1]);
            $err .= stream_get_contents($pipes[2]);
            usleep(20_000);
        }
        $out .= stream_get_contents($pipes[1]);
        $err .= stream_get_contents($pipes[2]);
        proc_close($child);
        return [$out, $err, $status];
    }
}
