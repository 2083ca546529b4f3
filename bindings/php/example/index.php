<?php

// The example application's SCIM endpoint: `SCIM_TOKEN=t php -d ffi.enable=1 -S 127.0.0.1:8000 index.php`.
// Everything SCIM is the engine's; this file only authenticates and hands over the request.

declare(strict_types=1);

require dirname(__DIR__) . '/autoload.php';

use Scimkit\Example\AppStorage;
use Scimkit\Provider;

const BASE_PATH = '/scim/v2';

// `php -S` (the cli-server SAPI) puts its own copy of the request URI into $_SERVER, and PHP's request
// shutdown drops $_SERVER without releasing it: the URI leaks, some 80 bytes a request. Removing it from
// $_SERVER before the shutdown releases it. Other SAPIs give $_SERVER a copy of their own.
if (PHP_SAPI === 'cli-server') {
    register_shutdown_function(static function (): void {
        unset($_SERVER['REQUEST_URI']);
    });
}

function scim_error(int $status, string $detail): void
{
    http_response_code($status);
    header('Content-Type: application/scim+json');
    echo json_encode(['schemas' => ['urn:ietf:params:scim:api:messages:2.0:Error'], 'status' => (string) $status, 'detail' => $detail]);
}

$path = parse_url($_SERVER['REQUEST_URI'] ?? '/', PHP_URL_PATH) ?: '/';
if ($path !== BASE_PATH && !str_starts_with($path, BASE_PATH . '/')) {
    scim_error(404, 'SCIM is served under ' . BASE_PATH);
    return;
}
$token = (string) getenv('SCIM_TOKEN');
$given = $_SERVER['HTTP_AUTHORIZATION'] ?? '';
if ($token === '' || !hash_equals("Bearer $token", $given)) {
    header('WWW-Authenticate: Bearer');
    scim_error(401, 'a valid bearer token is required');
    return;
}

// The package's own library with the component built in, unless the environment names others.
$library = getenv('SCIMKIT_LIBRARY') ?: null;
$component = getenv('SCIMKIT_COMPONENT') ?: null;
$dbPath = getenv('SCIM_EXAMPLE_DB') ?: sys_get_temp_dir() . '/scimkit-example.sqlite';

try {
    $fresh = !is_file($dbPath);
    $storage = new AppStorage(new PDO("sqlite:$dbPath", null, null, [PDO::ATTR_TIMEOUT => 10]));
    if ($fresh) {
        $storage->install();
    }
    $scheme = ($_SERVER['HTTPS'] ?? '') !== '' && $_SERVER['HTTPS'] !== 'off' ? 'https' : 'http';
    $host = $_SERVER['HTTP_HOST'] ?? 'localhost';
    $config = (require __DIR__ . '/config.php')("$scheme://$host" . BASE_PATH);
    (new Provider($library, $component, $config, $storage))->serve(BASE_PATH);
} catch (Throwable $e) {
    error_log('scimkit example: ' . $e->getMessage());
    scim_error(500, str_contains($e->getMessage(), 'ffi.enable')
        ? 'FFI is not enabled for this server: run PHP with -d ffi.enable=1, or preload (see bindings/php/README.md)'
        : 'the SCIM service could not start');
}
