<?php

// Run by CallbackFailureTest in a PHP process of its own: a storage call ends PHP with a fatal error
// ($argv[1]: 'memory' or 'exit'), then a shutdown function calls the engine again and prints what it
// answered as one JSON line.

declare(strict_types=1);

require dirname(__DIR__) . '/autoload.php';

use Scimkit\Provider;
use Scimkit\Tests\FaultyStorage;
use Scimkit\Tests\Native;

$storage = new FaultyStorage();
$config = (require dirname(__DIR__) . '/example/config.php')('https://app.example/scim/v2');
$provider = new Provider(Native::library(), Native::component(), $config, $storage);
register_shutdown_function(static function () use ($provider, $storage): void {
    $storage->fault = null;
    $r = $provider->handle('GET', '/Users');
    echo json_encode(['status' => $r->status, 'body' => $r->body]), "\n";
});
$storage->fault = $argv[1];
$provider->handle('GET', '/Users');
echo "the storage call returned\n";
