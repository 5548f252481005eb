/* A shared object that is not a textmill plugin at all. */
#include <textmill/stage.h>

TM_PUBLIC int some_other_library_function(int x);
TM_PUBLIC int some_other_library_function(int x) { return x + 1; }
