<?php

declare(strict_types=1);

namespace Scimkit\Tests;

use PHPUnit\Framework\TestCase;

/**
 * The example served by one `php -S` process keeps its RSS flat: a new PHP execution per request (open
 * the database, load the classes, create the Provider), as in bench.py but bounded for the test suite.
 */
final class ServerMemoryTest extends TestCase
{
    private const WARM_UP = 1000;
    private const REQUESTS = 3000;

    public function testOnePhpServerProcessKeepsItsMemoryFlat(): void
    {
        $data = sys_get_temp_dir() . '/scimkit-server-memory-' . getmypid();
        @mkdir($data);
        $port = self::freePort();
        $env = getenv() + ['SCIM_TOKEN' => 't', 'SCIM_EXAMPLE_DB' => "$data/app.sqlite",
            'SCIMKIT_LIBRARY' => Native::library(), 'SCIMKIT_COMPONENT' => Native::component()];
        unset($env['PHP_CLI_SERVER_WORKERS']); // one process, the one measured
        $server = proc_open([PHP_BINARY, '-d', 'ffi.enable=1', '-S', "127.0.0.1:$port", dirname(__DIR__) . '/example/index.php'],
            [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']], $pipes, null, $env);
        try {
            $pid = proc_get_status($server)['pid'];
            $created = self::request($port, 'POST', '/scim/v2/Users', '{"userName":"bjensen"}');
            self::assertTrue(str_starts_with($created, 'HTTP/1.1 201'), "create: $created");
            preg_match('/"id":"([^"]+)"/', $created, $m);
            $get = fn () => self::assertTrue(str_starts_with(self::request($port, 'GET', "/scim/v2/Users/$m[1]"), 'HTTP/1.1 200'), 'GET by id');
            for ($i = 0; $i < self::WARM_UP; $i++) {
                $get();
            }
            $before = self::rssKib($pid);
            for ($i = 0; $i < self::REQUESTS; $i++) {
                $get();
            }
            $growth = self::rssKib($pid) - $before;
            // Leaking the request URI (php -S without the example's workaround) is about 230 KiB here.
            self::assertTrue($growth < 96, "php -S grew by $growth KiB over " . self::REQUESTS . ' requests');
        } finally {
            proc_terminate($server);
            proc_close($server);
            array_map('unlink', glob("$data/*"));
            @rmdir($data);
        }
    }

    private static function freePort(): int
    {
        $socket = stream_socket_server('tcp://127.0.0.1:0');
        $port = (int) substr(strrchr(stream_socket_get_name($socket, false), ':'), 1);
        fclose($socket);
        return $port;
    }

    /** One request on a new connection, retried while the server starts; the raw response. */
    private static function request(int $port, string $method, string $path, string $body = ''): string
    {
        for ($try = 0; ($conn = @stream_socket_client("tcp://127.0.0.1:$port", $errno, $error, 5)) === false; $try++) {
            self::assertTrue($try < 100, "php -S does not answer: $error");
            usleep(50_000);
        }
        fwrite($conn, "$method $path HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer t\r\n"
            . "Content-Type: application/scim+json\r\nContent-Length: " . strlen($body) . "\r\nConnection: close\r\n\r\n$body");
        $response = (string) stream_get_contents($conn);
        fclose($conn);
        return $response;
    }

    private static function rssKib(int $pid): int
    {
        preg_match('/^VmRSS:\s+(\d+)/m', (string) file_get_contents("/proc/$pid/status"), $m);
        return (int) ($m[1] ?? 0);
    }
}
