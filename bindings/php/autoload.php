<?php

// For use without Composer: the PSR-4 mapping of composer.json.
spl_autoload_register(static function (string $class): void {
    foreach (['Scimkit\\Example\\' => '/example/src/', 'Scimkit\\Tests\\' => '/tests/', 'Scimkit\\' => '/src/'] as $prefix => $dir) {
        if (str_starts_with($class, $prefix)) {
            $file = __DIR__ . $dir . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
            if (is_file($file)) {
                require $file;
            }
            return;
        }
    }
});
