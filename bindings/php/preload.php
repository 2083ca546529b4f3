<?php

// opcache.preload script (php-fpm, php-cgi): preloads the Scimkit classes, from which FFI calls are then
// allowed under `ffi.enable=preload`. The library itself is declared by `ffi.preload` (bin/ffi-header.php).

declare(strict_types=1);

require __DIR__ . '/autoload.php';

foreach (glob(__DIR__ . '/src/*.php') as $file) {
    $name = 'Scimkit\\' . basename($file, '.php');
    class_exists($name) || interface_exists($name);
}
