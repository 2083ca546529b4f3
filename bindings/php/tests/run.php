<?php

// A dependency-free test runner: every public test* method of every tests/*Test.php class.
// Prints one line per failure and "N passed, M failed"; exits non-zero on a failure.

declare(strict_types=1);

require dirname(__DIR__) . '/autoload.php';

$passed = $failed = 0;
foreach (glob(__DIR__ . '/*Test.php') as $file) {
    $class = 'Scimkit\\Tests\\' . basename($file, '.php');
    foreach (get_class_methods($class) as $method) {
        if (!str_starts_with($method, 'test')) {
            continue;
        }
        try {
            (new $class())->$method();
            $passed++;
        } catch (Throwable $e) {
            $failed++;
            $where = basename($e->getFile()) . ':' . $e->getLine();
            echo "FAIL $class::$method ($where): {$e->getMessage()}\n";
        }
    }
}
echo "$passed passed, $failed failed\n";
exit($failed === 0 && $passed > 0 ? 0 : 1);
